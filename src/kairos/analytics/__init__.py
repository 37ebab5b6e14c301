"""Analytics: attribution of conversions to messages, and reports per broadcast, campaign and journey."""

"""Lead scoring: score models and their rules, the score ledger, decay (docs/leads.md)."""

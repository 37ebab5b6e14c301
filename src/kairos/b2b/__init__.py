"""B2B accounts: the companies contacts work for (Segment ``group`` calls, the API, CSV)."""

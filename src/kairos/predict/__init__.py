"""Predictive conversion scores: per-workspace models of a goal event (docs/leads.md,
"Predictive conversion score")."""

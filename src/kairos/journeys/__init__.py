"""Journeys: versioned graphs of triggers, waits, branches and actions, run durably in batches."""

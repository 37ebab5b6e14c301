"""Hosted forms and landing pages that capture and merge contacts (docs/forms.md)."""

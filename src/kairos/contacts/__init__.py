"""Contacts: profiles, identities and merges, typed attributes, tags, CSV import."""

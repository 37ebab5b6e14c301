"""Workspaces (tenants) and their keys."""

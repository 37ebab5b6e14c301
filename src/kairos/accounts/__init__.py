"""Console users: accounts, workspace roles, sessions, first-run setup and the audit log."""

"""Storage: engine, shared metadata, column types, migrations."""

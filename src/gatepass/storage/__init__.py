"""Storage implementations of the cores' Protocols: sql/ (SQLite, PostgreSQL) and redis/."""

"""SQL storage through SQLAlchemy 2 (async): SQLite via aiosqlite, PostgreSQL via asyncpg."""

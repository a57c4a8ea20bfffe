"""Alembic environment: runs on the connection handed over by gatepass.storage.sql.migrate."""

from alembic import context

from gatepass.storage.sql.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `gatepass migrate`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

"""Alembic environment: migrates the database named by the config's sqlalchemy.url."""
from alembic import context
from sqlalchemy import engine_from_config, pool

from database.base import include_object
from database.models import metadata

config = context.config


def run_migrations() -> None:
    """Run migrations online against the configured database."""
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=metadata, render_as_batch=True,
                          compare_type=True, include_object=include_object(connectable.dialect.name))
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(config.get_section(config.config_ini_section) or {}, prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                          compare_type=True, include_object=include_object(connection.dialect.name))
        with context.begin_transaction():
            context.run_migrations()


run_migrations()

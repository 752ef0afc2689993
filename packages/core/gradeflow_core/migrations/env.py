"""Alembic environment: the URL comes from the caller (gradeflow_core.migrate), never from a file."""
from alembic import context

from gradeflow_core import models  # noqa: F401  (registers the tables)
from gradeflow_core.db import Base, make_engine

config = context.config
url = config.get_main_option("sqlalchemy.url")


def run() -> None:
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()

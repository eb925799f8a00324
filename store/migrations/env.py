"""Alembic's entry point for the store's migrations. All it does is hand over to store.upgrades,
which runs them inside the dashboard's own transaction (see that module)."""

from alembic import context

from store.upgrades import run_migrations

run_migrations(context)

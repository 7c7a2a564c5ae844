"""Alembic migrations of the ledgerbridge store."""

"""Shared helpers for ledgerbridge's own tests."""

"""Helpers for testing ledgerbridge and its connectors (also used by connector authors)."""

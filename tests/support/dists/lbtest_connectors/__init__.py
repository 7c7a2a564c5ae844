"""Test-only connectors: a shop and a ledger kept in Redis, so worker processes share them."""

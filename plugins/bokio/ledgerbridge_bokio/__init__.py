"""Bokio target connector for ledgerbridge: API client, mapping, flows, sandbox."""

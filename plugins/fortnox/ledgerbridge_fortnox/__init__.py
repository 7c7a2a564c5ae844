"""Fortnox target connector for ledgerbridge: OAuth2 client, mapping, flows, sandbox."""

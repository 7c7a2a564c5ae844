"""The Fortnox sandbox: a local fake of Fortnox API v3 and its OAuth2 server."""

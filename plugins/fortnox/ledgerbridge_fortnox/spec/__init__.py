"""The Fortnox OpenAPI file (data; see README.md for its provenance)."""

"""The ledgerbridge web UI and JSON API (Flask, served by gunicorn)."""

"""Configuring sites, ledgers and routes: validation, encryption and masked views.

The CLI, the web UI and the JSON API all go through these functions, so everything the UI can
configure is scriptable and validated the same way.
"""

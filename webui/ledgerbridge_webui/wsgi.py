"""The WSGI entry point gunicorn serves (``ledgerbridge serve``)."""

from ledgerbridge_webui.app import create_app

app = create_app()

"""Swedish and English (Flask-Babel); Swedish unless the user chose English.

The catalogs live in ``translations/`` (``messages.po`` and the compiled ``messages.mo``, both
committed; ``scripts/translations`` extracts and compiles them, and a test fails when the
compiled catalog is older than its source or a string of a template is not translated).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, session
from flask_babel import Babel
from flask_login import current_user

LANGUAGES = {"sv": "Svenska", "en": "English"}
DEFAULT_LANGUAGE = "sv"
TRANSLATIONS = Path(__file__).parent / "translations"


def selected_language() -> str:
    """The language of this request: the session's choice, then the user's, then Swedish."""
    chosen = session.get("language")
    if chosen in LANGUAGES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    return DEFAULT_LANGUAGE


def configure(app: Flask) -> None:
    """Install Flask-Babel on ``app``."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Europe/Stockholm")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=selected_language)
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["current_language"] = selected_language

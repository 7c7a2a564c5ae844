"""The Swedish catalog covers every string of the UI, and the committed .mo matches its .po."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

PACKAGE = Path(__file__).resolve().parents[1] / "ledgerbridge_webui"
CATALOG = PACKAGE / "translations" / "sv" / "LC_MESSAGES"


def _strings() -> set[str]:
    method_map, options_map = parse_mapping_cfg(
        io.StringIO((PACKAGE / "translations" / "babel.cfg").read_text())
    )
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
    found = set()
    for _name, _line, message, _comments, _context in extract_from_dir(
        str(PACKAGE), method_map, options_map, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_string_of_the_ui_has_a_swedish_translation():
    with (CATALOG / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id and all(m.string if isinstance(m.string, tuple) else [m.string]) and not m.fuzzy
    }
    strings = _strings()
    assert len(strings) > 200
    assert strings - translated == set(), "run scripts/translations and translate these"


def _pairs(catalog) -> dict:
    def key(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return {key(m.id): key(m.string) for m in catalog if m.id}


def test_the_compiled_catalog_is_up_to_date():
    with (CATALOG / "messages.po").open("rb") as handle:
        source = read_po(handle)
    buffer = io.BytesIO()
    write_mo(buffer, source)
    buffer.seek(0)
    expected = _pairs(read_mo(buffer))
    with (CATALOG / "messages.mo").open("rb") as handle:
        committed = _pairs(read_mo(handle))
    assert committed == expected, "run scripts/translations to compile messages.mo"

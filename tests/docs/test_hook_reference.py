"""docs/hooks.md documents every hookspec with its exact signature and options."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from ledgerbridge.plugins import hookspecs
from ledgerbridge_fortnox import hookspecs as fortnox_hookspecs

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "hooks.md"
#: Hookspec modules whose hooks the reference documents: the core and connector-published ones.
SPEC_MODULES: tuple[ModuleType, ...] = (hookspecs, fortnox_hookspecs)
SECTION = re.compile(
    r"^### `(?P<name>ledgerbridge_\w+)`\n\n```python\n(?P<code>.*?)\n```", re.M | re.S
)


def specs() -> dict[str, Callable[..., Any]]:
    """Every hookspec function, by name."""
    found = {}
    for module in SPEC_MODULES:
        for name, value in vars(module).items():
            if name.startswith("ledgerbridge_") and hasattr(value, "ledgerbridge_spec"):
                found[name] = value
    return found


def declaration(spec: Callable[..., Any]) -> str:
    """The decorator and ``def`` line the reference must show for ``spec``."""
    options = [key for key in ("firstresult", "historic") if spec.ledgerbridge_spec.get(key)]
    decorator = "@hookspec" + (
        f"({', '.join(f'{key}=True' for key in options)})" if options else ""
    )
    signature = inspect.signature(spec)
    parameters = ", ".join(
        f"{name}: {parameter.annotation}" for name, parameter in signature.parameters.items()
    )
    return f"{decorator}\ndef {spec.__name__}({parameters}) -> {signature.return_annotation}"


def documented(path: Path = REFERENCE) -> dict[str, str]:
    """Hook name → the code block under its heading in the reference at ``path``."""
    text = path.read_text(encoding="utf-8")
    sections: dict[str, str] = {}
    for match in SECTION.finditer(text):
        assert match["name"] not in sections, f"{match['name']} is documented twice"
        sections[match["name"]] = match["code"].strip()
    return sections


def test_every_hookspec_is_documented_with_its_exact_signature() -> None:
    sections = documented()
    problems = []
    for name, spec in specs().items():
        wanted = declaration(spec)
        if name not in sections:
            problems.append(f"missing: add a section\n### `{name}`\n\n```python\n{wanted}\n```")
        elif sections[name] != wanted:
            problems.append(f"{name} differs:\n  docs: {sections[name]!r}\n  code: {wanted!r}")
    assert not problems, "docs/hooks.md is out of date:\n" + "\n".join(problems)


def test_the_reference_lists_no_hook_that_does_not_exist() -> None:
    stale = sorted(set(documented()) - set(specs()))
    assert not stale, f"docs/hooks.md documents hooks that no hookspec defines: {stale}"


def test_every_documented_hook_has_semantics_and_an_example() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    chunks = re.split(r"^### ", text, flags=re.M)[1:]
    for chunk in chunks:
        name = chunk.split("`")[1]
        body = chunk.split("```", 2)[2]
        assert len(body.strip()) > 80, f"{name}: say what it means"
        assert "Example:" in body, f"{name}: give an example"


def test_the_check_sees_a_renamed_argument(tmp_path) -> None:
    original = REFERENCE.read_text(encoding="utf-8")
    changed = original.replace(
        "def ledgerbridge_source_fetch_order(site: SiteContext, order_id: str)",
        "def ledgerbridge_source_fetch_order(site: SiteContext, order: str)",
    )
    assert changed != original
    copy = tmp_path / "hooks.md"
    copy.write_text(changed, encoding="utf-8")
    wanted = declaration(hookspecs.ledgerbridge_source_fetch_order)
    assert documented(copy)["ledgerbridge_source_fetch_order"] != wanted
    assert documented()["ledgerbridge_source_fetch_order"] == wanted

"""docs/README.md links every document, and every relative link in the docs resolves."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_the_index_links_every_document() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    linked = {(DOCS / target).resolve() for target in LINK.findall(index)}
    documents = {path.resolve() for path in DOCS.rglob("*.md") if path.name != "README.md"}
    missing = sorted(str(path.relative_to(DOCS)) for path in documents - linked)
    assert not missing, f"docs/README.md does not link: {missing}"


def test_relative_links_in_the_docs_resolve() -> None:
    sources = [*DOCS.rglob("*.md"), REPO / "examples" / "ledgerbridge-sie" / "README.md"]
    broken = []
    for source in sources:
        for target in LINK.findall(source.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (source.parent / target).exists():
                broken.append(f"{source.relative_to(REPO)} → {target}")
    assert not broken, "broken links:\n" + "\n".join(broken)

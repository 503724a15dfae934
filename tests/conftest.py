from __future__ import annotations

import hashlib
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

SOURCE_TEXT = (
    "Putin gave Kim Jong Un a Russian\u2011made car,\u00a0state media said.\n\n"
    "The car was handed over on Feb. 18, the agency reported on Tuesday.\n"
)

CARD = """\
claim: Putin gave Kim a car.
status: confirmed
section: gift
entities: [putin]
evidence:
  - source: wire
    quote: "Putin gave Kim Jong Un a Russian-made car"
"""


def write(root: Path, rel: str, text: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def make_content(root: Path, facts: dict[str, str] | None = None, *, pin: bool = True) -> Path:
    """A small valid dossier; ``facts`` maps a path under facts/ to a card's YAML."""
    write(root, "dossier.yaml", "title: Test dossier\nsections:\n  - id: gift\n    title: The gift\n")
    write(root, "entities.yaml", "putin:\n  name: Vladimir Putin\n  kind: person\n")
    write(root, "sources/wire.txt", SOURCE_TEXT)
    digest = hashlib.sha256(SOURCE_TEXT.encode()).hexdigest()
    meta = "title: Wire report\nurl: https://example.org/wire\n"
    if pin:
        meta += f"sha256: {digest}\n"
    write(root, "sources/wire.yaml", meta)
    for rel, text in (facts if facts is not None else {"gift.yaml": CARD}).items():
        write(root, f"facts/{rel}", text)
    return root


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return make_content(tmp_path / "content")


@pytest.fixture
def in_tmp(tmp_path: Path) -> Iterator[Path]:
    """Run with the temporary directory as the working directory (paths print relative)."""
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read or write the user's cache folder."""
    monkeypatch.setenv("DOSSIER_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))

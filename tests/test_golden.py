"""Golden pages: the fixture dossier must render to exactly the files in tests/golden/.

After an intended change to templates or rendering, run `make golden` and review the diff.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from dossier.build import build

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "fixtures" / "golden-content"
GOLDEN = HERE / "golden"
SKIP = ("static/", ".dossier-build")  # the theme's own files are copied, not rendered


def rendered(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and not p.relative_to(out).as_posix().startswith(SKIP)
    }


def test_golden_pages(tmp_path: Path) -> None:
    result = build(FIXTURE, tmp_path / "site")
    assert result.published is not None, [p.message for p in result.check.problems]
    got = rendered(tmp_path / "site")
    if os.environ.get("DOSSIER_UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for name, data in got.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(data)
        pytest.skip("golden files rewritten; review the diff")
    want = rendered(GOLDEN)
    assert sorted(got) == sorted(want), "pages added or removed: run `make golden` and review"
    for name in want:
        if name.endswith(".pdf"):  # a copy of the source file
            assert got[name] == (FIXTURE / name).read_bytes()
            continue
        assert got[name].decode() == want[name].decode(), f"{name} differs: run `make golden` and review"

"""Sources of every kind in a dossier: .txt, .md, .html and .pdf (issue 7)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from dossier import cache, readers
from dossier.build import build
from dossier.check import check
from dossier.cli import main

from .conftest import CARD, make_content, write

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "golden-content"
HTML = (FIXTURE / "sources/city-notice.html").read_bytes()
PDF = (FIXTURE / "sources/inspection.pdf").read_bytes()


def add_source(content: Path, sid: str, kind: str, data: bytes) -> None:
    write(content, f"sources/{sid}.{kind}", data)
    write(content, f"sources/{sid}.yaml", f"title: {sid}\nsha256: {hashlib.sha256(data).hexdigest()}\n")


def card(source: str, quote: str) -> str:
    return CARD.replace("source: wire", f"source: {source}").replace(
        '"Putin gave Kim Jong Un a Russian-made car"', f'"{quote}"'
    )


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    content = make_content(tmp_path / "content")
    add_source(content, "notice", "html", HTML)
    add_source(content, "report", "pdf", PDF)
    add_source(content, "memo", "md", b"# Memo\n\nThe memo says the *bridge* is fine.\n")
    write(
        content, "facts/from-html.yaml", card("notice", "the bridge would reopen & carry traffic on March 4")
    )
    write(content, "facts/from-pdf.yaml", card("report", "Its bilateral supports were repaired"))
    write(content, "facts/from-pdf-2.yaml", card("report", "certified the bridge on March 2"))
    write(content, "facts/from-md.yaml", card("memo", "The memo says the *bridge* is fine."))
    return content


def test_a_dossier_of_all_four_kinds_checks_and_builds(mixed: Path, tmp_path: Path) -> None:
    result = build(mixed, tmp_path / "site")
    assert result.published is not None, [p.message for p in result.check.problems]
    assert {s.kind for s in result.check.content.sources.values()} == {"txt", "md", "html", "pdf"}  # type: ignore[union-attr]
    site = tmp_path / "site"
    assert (site / "sources/report.pdf").read_bytes() == PDF
    fact = (site / "facts/from-pdf-2.html").read_text()
    assert "(p. 2)" in fact and 'href="../sources/report.pdf#page=2"' in fact
    page = (site / "sources/report.html").read_text()
    assert 'id="page-2"' in page and 'href="../sources/report.pdf#page=2"' in page
    notice = (site / "sources/notice.html").read_text()
    assert "reopen &amp; carry traffic" in notice
    for hidden in ["var note", "Home | News", "never safe", "Hidden draft", "<main>", "&lt;main&gt;"]:
        assert hidden not in notice
    assert "<mark" in notice


@pytest.mark.parametrize(
    ("quote", "why"),
    [
        ("The bridge will close forever", "only inside a <script>"),
        ("The bridge was never safe", "only inside an HTML comment"),
        ("Hidden draft text about the bridge", "only in a hidden element"),
        ("Home | News | Contact", "only in the navigation"),
    ],
)
def test_text_a_reader_does_not_see_is_not_found(mixed: Path, quote: str, why: str) -> None:
    write(mixed, "facts/from-html.yaml", card("notice", quote))
    [problem] = check(mixed).errors
    assert problem.code == "quote-not-found", why


def test_pdf_quote_across_a_hyphenated_line_break_is_found(mixed: Path) -> None:
    result = check(mixed)
    assert result.errors == []
    match = result.matches[("from-pdf", 0)]
    text = result.content.sources["report"].text  # type: ignore[union-attr]
    assert " ".join(text[match.start : match.end].split()) == "Its bilateral supports were repaired"


def test_a_nearest_passage_in_html_or_pdf_names_the_line_of_the_text_read_from_it(mixed: Path) -> None:
    """Not a line of the file, which the text read from it does not follow: the line of
    that text (as its page in the briefing shows it), and a PDF's page."""
    write(mixed, "facts/from-html.yaml", card("notice", "the bridge would reopen & carry lorries on March 4"))
    write(mixed, "facts/from-pdf-2.yaml", card("report", "certified the bridge on March 9"))
    result = check(mixed)
    details = {p.source: p.details[0] for p in result.errors}
    notice = result.content.sources["notice"]  # type: ignore[union-attr]
    line = notice.text[: notice.text.index("the bridge would reopen")].count("\n") + 1
    where = f"{notice.text_file}, line {line} of its visible text"
    assert details["notice"].startswith(f"nearest passage ({where})")
    assert details["report"].startswith("nearest passage (") and ", page 2, line " in details["report"]


def test_broken_pdf_and_html_are_reported_not_raised(mixed: Path) -> None:
    add_source(mixed, "report", "pdf", b"%PDF-1.4 this is not really a pdf")
    add_source(mixed, "notice", "html", b'<meta charset="utf-8"><p>caf\xe9</p>')
    runner = CliRunner()
    out = runner.invoke(main, ["check", str(mixed), "--no-cache"])
    assert out.exit_code == 1
    assert "report.pdf:1:1: error[source-unreadable] cannot read the text of this PDF" in out.stdout
    assert "notice.html:1:1: error[source-unreadable]" in out.stdout and "byte offset" in out.stdout
    assert "Traceback" not in out.output


def test_extraction_is_cached_by_file_hash(mixed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = cache.Cache()
    check(mixed, cache=store)
    assert len(store.extracted) == 2  # the HTML and the PDF
    again = cache.load_bytes(cache.dump(store))

    def no_extraction(kind: str, data: bytes) -> None:
        raise AssertionError("extracted again")

    monkeypatch.setattr(readers, "extract", no_extraction)
    assert check(mixed, cache=again).errors == []
    add_source(mixed, "notice", "html", HTML.replace(b"March&nbsp;4", b"March&nbsp;5"))
    with pytest.raises(AssertionError, match="extracted again"):
        check(mixed, cache=again)


@pytest.mark.parametrize(
    ("name", "data"), [("notice.html", HTML), ("report.pdf", PDF), ("memo.md", b"# Memo\n")]
)
def test_new_source_takes_every_kind(in_tmp: Path, name: str, data: bytes) -> None:
    make_content(in_tmp / "content")
    (in_tmp / name).write_bytes(data)
    sid = name.split(".")[0]
    result = CliRunner().invoke(main, ["new", "source", sid, "--from", name])
    assert result.exit_code == 0, result.output
    assert (in_tmp / "content/sources" / name).read_bytes() == data
    assert CliRunner().invoke(main, ["check", "content"]).exit_code == 0
    (in_tmp / "bad.pdf").write_bytes(b"not a pdf")
    result = CliRunner().invoke(main, ["new", "source", "bad", "--from", "bad.pdf"])
    assert result.exit_code == 1 and "error[source-unreadable]" in result.stderr

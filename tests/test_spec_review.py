"""Findings of a review against the SPEC, each a case that failed before its fix."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result

from dossier import quotes

from .conftest import CARD, make_content
from .test_extract import lines, make_pdf
from .test_hardening import assert_no_crash, invoke, put

SOURCE = "The Russian-made car was delivered to Kim's top aides on Jan. 18, officials said."


def checked(in_tmp: Path, rel: str, text: str, *args: str) -> Result:
    """``dossier check`` of the test dossier (in the working folder) with ``rel`` written as
    ``text``; no traceback, whatever it finds."""
    put(make_content(in_tmp / "content"), rel, text)
    result = invoke("check", "content", *args)
    assert_no_crash(result)
    return result


# --- a miss names what the quote holds that the source never uses (SPEC §3) --------------


@pytest.mark.parametrize(
    ("quote", "named"),
    [
        ("The Russian\u2012made car was delivered", "U+2012 FIGURE DASH"),
        ("delivered to Kim\u2032s top aides", "U+2032 PRIME"),
        ("delivered to Kim\u00b4s top aides", "U+00B4 ACUTE ACCENT"),
        ("delivered to Kim\uff07s top aides", "U+FF07 FULLWIDTH APOSTROPHE"),
        ("the Russian-made \uff43\uff41\uff52 was", "U+FF43 FULLWIDTH LATIN SMALL LETTER C"),
    ],
)
def test_a_look_alike_the_source_never_uses_is_named(quote: str, named: str) -> None:
    miss = quotes.verify(quote, quotes.Source(SOURCE))
    assert isinstance(miss, quotes.Miss)
    assert named in miss.message and "the source never uses" in miss.message
    assert any(s.startswith(named) for s in miss.suspicious)


def test_a_character_the_source_uses_is_not_named() -> None:
    source = quotes.Source("Le président a dit « non » aux ministres, mardi soir.")
    miss = quotes.verify("Le président a dit « oui » aux ministres", source)
    assert isinstance(miss, quotes.Miss)
    assert "never uses" not in miss.message  # é and « » stand in the source: no look-alike
    cyrillic = quotes.verify("The Russi\u0430n-made car was", quotes.Source(SOURCE))
    assert isinstance(cyrillic, quotes.Miss)
    assert cyrillic.message.count("U+0430") == 1  # named once, as a look-alike letter


# --- bad output and a closed pipe are not "a bug in dossier" (SPEC §4) -------------------


@pytest.mark.parametrize("fmt", ["text", "json", "github", "markdown"])
def test_a_file_name_not_in_utf8_is_reported_in_every_format(tmp_path: Path, fmt: str) -> None:
    content = make_content(tmp_path / "content")
    name = b"bad\xff.yaml"
    (content / "facts").joinpath(name.decode("utf-8", "surrogateescape")).write_text(CARD)
    done = subprocess.run(
        [sys.executable, "-m", "dossier", "check", str(content), "--no-cache", "--format", fmt],
        capture_output=True,
        env={"PYTHONIOENCODING": "utf-8", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        check=False,
    )
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 1, err
    assert "internal error" not in err and "Traceback" not in err
    if fmt == "json":
        assert json.loads(out)["errors"][0]["file"].endswith("bad\\xff.yaml")
    else:
        assert "bad\\xff" in out, out  # the byte written as its escape


def test_a_closed_pipe_ends_the_check_quietly(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    for i in range(3000):  # more than a pipe holds
        put(content, f"facts/bad-{i}.yaml", "claim: x\nqoute: y\n")
    done = subprocess.run(
        f"'{sys.executable}' -m dossier check '{content}' --no-cache | head -1",
        shell=True,
        capture_output=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.stdout.decode().count("\n") == 1
    assert b"internal error" not in done.stderr and b"Traceback" not in done.stderr, done.stderr


# --- the site ----------------------------------------------------------------------------


def test_a_crlf_source_has_the_paragraphs_of_its_lf_twin(tmp_path: Path) -> None:
    text = "Putin gave Kim Jong Un a Russian-made car,\nstate media said.\n\nThe car was handed over.\n"
    pages = []
    for name, body in (("lf", text), ("crlf", text.replace("\n", "\r\n"))):
        content = make_content(tmp_path / name / "content", pin=False)
        put(content, "sources/wire.txt", body)
        result = invoke("build", str(content), "--out", str(tmp_path / name / "site"), "--no-cache")
        assert result.exit_code == 0, result.output
        page = (tmp_path / name / "site/sources/wire.html").read_text()
        pages.append(page)
    lf, crlf = (re.findall(r"<p[ >]", p) for p in pages)
    assert len(crlf) == len(lf)
    assert len(re.findall(r"<p[ >]", pages[1].split("<main", 1)[1])) >= 2
    assert "\r" not in re.sub(r"\s+", " ", pages[1]).split("state media said.", 1)[0][-40:]


def test_a_quote_of_a_pdf_links_to_the_original_at_its_page(tmp_path: Path) -> None:
    pdf = make_pdf(lines("A first page of nothing much."), lines(SOURCE))
    content = make_content(tmp_path / "content", pin=False)
    put(content, "sources/wire.txt", None)
    put(content, "sources/wire.pdf", pdf)
    put(
        content,
        "facts/gift.yaml",
        CARD.replace("Putin gave Kim Jong Un a Russian-made car", "the Russian-made car was delivered"),
    )
    result = invoke("build", str(content), "--out", str(tmp_path / "site"), "--no-cache")
    assert result.exit_code == 0, result.output
    page = (tmp_path / "site/facts/gift.html").read_text()
    assert 'class="to-original" href="https://example.org/wire#page=2"' in page
    doc = json.loads((tmp_path / "site/dossier.json").read_text())
    evidence = doc["facts"][0]["evidence"][0]
    assert evidence["original"] == "https://example.org/wire#page=2" and evidence["pdf_page"] == 2
    assert doc["sources"][0]["kind"] == "pdf" and doc["sources"][0]["file"] == "sources/wire.pdf"


def test_dossier_json_holds_the_settings_and_the_sources_notes(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    meta = (content / "sources/wire.yaml").read_text()
    put(content, "sources/wire.yaml", meta + "notes: Read *with care*.\n")
    put(content, "dossier.yaml", (content / "dossier.yaml").read_text() + "quotes:\n  max_omission: 120\n")
    result = invoke("build", str(content), "--out", str(tmp_path / "site"))
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "site/dossier.json").read_text())
    assert doc["dossier"]["quotes"] == {"max_omission": 120, "max_substitution": 80, "min_words": 3}
    assert doc["sources"][0]["notes"] == "Read *with care*."
    assert doc["sources"][0]["kind"] == "txt" and doc["sources"][0]["file"] is None


# --- base_url ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["https://x.example/?a=1", "https://x.example/d#top"])
def test_a_base_url_with_a_query_or_fragment_is_refused(in_tmp: Path, url: str) -> None:
    result = checked(
        in_tmp, "dossier.yaml", f'title: T\nbase_url: "{url}"\nsections: [{{id: gift, title: G}}]\n'
    )
    assert result.exit_code == 1
    assert "content/dossier.yaml:2:11: error[invalid-value] 'base_url' is the address" in result.output


def test_a_base_url_beyond_ascii_is_written_as_a_uri(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    put(
        content,
        "dossier.yaml",
        'title: T\nbase_url: "https://münchen.example/dossier-ü/"\nsections: [{id: gift, title: G}]\n',
    )
    result = invoke("build", str(content), "--out", str(tmp_path / "site"))
    assert result.exit_code == 0, result.output
    sitemap = (tmp_path / "site/sitemap.xml").read_text()
    assert "<loc>https://xn--mnchen-3ya.example/dossier-%C3%BC/index.html</loc>" in sitemap
    assert sitemap.isascii()
    page = (tmp_path / "site/facts/gift.html").read_text()
    assert 'rel="canonical" href="https://xn--mnchen-3ya.example/dossier-%C3%BC/facts/gift.html"' in page


def test_a_base_url_whose_host_idna_refuses_is_an_error(in_tmp: Path) -> None:
    result = checked(in_tmp, "dossier.yaml", f'title: T\nbase_url: "https://{"a" * 70}.ü/"\n')
    assert (
        "content/dossier.yaml:2:11: error[invalid-value] 'base_url' has a host name IDNA refuses"
        in result.output
    )


# --- scaffolds ---------------------------------------------------------------------------


def test_new_fact_refuses_a_source_that_is_no_id(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    result = invoke("new", "fact", "newf", "--content", str(content), "--source", "a: b")
    assert_no_crash(result)
    assert result.exit_code == 1
    assert "'a: b' is not a valid source id" in result.output
    assert not (content / "facts/newf.yaml").exists()


def test_new_fact_refuses_a_source_the_content_does_not_hold(tmp_path: Path) -> None:
    """A card naming an unknown source fails the check as soon as it is filled in: the
    scaffold says so first, with the id it likely meant, and writes nothing."""
    content = make_content(tmp_path / "content")
    result = invoke("new", "fact", "newf", "--content", str(content), "--source", "wirre")
    assert_no_crash(result)
    assert result.exit_code == 1
    said = "newf.yaml:1:1: error[unknown-source] no source has the id 'wirre'; did you mean 'wire'?"
    assert said in result.output
    assert "nothing was written" in result.output
    assert not (content / "facts/newf.yaml").exists()
    result = invoke("new", "fact", "newf", "--content", str(content), "--source", "zzz")
    assert result.exit_code == 1 and "add it first with 'dossier new source'" in result.output
    result = invoke("new", "fact", "newf", "--content", str(content), "--source", "")
    assert result.exit_code == 1 and "'' is not a valid source id" in result.output
    (content / "sources/wire.yaml").unlink()  # a source with a text file and no metadata is one too
    result = invoke("new", "fact", "newf", "--content", str(content), "--source", "wire")
    assert result.exit_code == 0, result.output
    assert "  - source: wire\n" in (content / "facts/newf.yaml").read_text()


def test_new_fact_without_a_source_writes_the_placeholder(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    result = invoke("new", "fact", "newf", "--content", str(content))
    assert result.exit_code == 0, result.output
    assert "  - source: source-id\n" in (content / "facts/newf.yaml").read_text()


# --- every problem in one run ------------------------------------------------------------


@pytest.mark.parametrize("quote", ['""', "cut # short", "[not, a, string]"])
def test_an_evidence_item_left_out_still_has_its_source_checked(in_tmp: Path, quote: str) -> None:
    card = f"claim: A car.\nstatus: confirmed\nevidence:\n  - source: nope\n    quote: {quote}\n"
    result = checked(in_tmp, "facts/gift.yaml", card, "--no-cache")
    assert "content/facts/gift.yaml:4:13: error[unknown-source] no source has the id 'nope'" in result.output
    assert "error[invalid-value]" in result.output  # and the quote's own problem


@pytest.mark.parametrize("date", ["0000", "0000-01", "0000-01-01"])
def test_there_is_no_year_zero(in_tmp: Path, date: str) -> None:
    card = CARD.replace("status: confirmed", f"status: confirmed\ndate: {date}")
    result = checked(in_tmp, "facts/gift.yaml", card, "--no-cache")
    assert "error[invalid-value] 'date' is not a valid date (year 0 does not exist" in result.output


def test_every_quote_problem_in_json_has_its_source_and_nearest(in_tmp: Path) -> None:
    card = CARD.replace('"Putin gave Kim Jong Un a Russian-made car"', '"Putin gave"')
    result = checked(in_tmp, "facts/gift.yaml", card, "--no-cache", "--format", "json")
    [problem] = json.loads(result.output)["errors"]
    assert problem["code"] == "quote-too-short"
    assert problem["source"] == "wire" and problem["nearest"] is None and problem["differences"] == []


def test_a_letter_whose_case_may_differ_is_not_named_for_its_case() -> None:
    source = quotes.Source("The coach said élan was high among the players that week.")
    miss = quotes.verify("Élan was low among the players", source)  # a first letter's case may differ
    assert isinstance(miss, quotes.Miss) and "never uses" not in miss.message


def test_a_line_ending_in_spaces_does_not_end_its_paragraph(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content", pin=False)
    text = "Putin gave Kim Jong Un a Russian-made car,  \nstate media said.\t\nIt was done.\n\nA second.\n"
    put(content, "sources/wire.txt", text)
    result = invoke("build", str(content), "--out", str(tmp_path / "site"), "--no-cache")
    assert result.exit_code == 0, result.output
    shown = (tmp_path / "site/sources/wire.html").read_text().split('<div class="source-text">', 1)[1]
    assert len(re.findall(r"<p[ >]", shown.split("</div>", 1)[0])) == 2


def test_a_host_idna_2003_would_map_to_another_is_refused(in_tmp: Path) -> None:
    result = checked(in_tmp, "dossier.yaml", 'title: T\nbase_url: "https://faß.example/"\n')
    assert "error[invalid-value] 'base_url' has a host name IDNA refuses: 'faß.example'" in result.output


def test_the_error_page_of_serve_takes_a_name_not_in_utf8(tmp_path: Path) -> None:
    from dossier.serve import DevServer

    server = DevServer(make_content(tmp_path / "content"), tmp_path / "site", 0, lambda _: None)
    try:
        server._fail(["site/old\udcff.html: in the way"])
    finally:
        server.stop()
    assert server.error_page is not None and b"old\\udcff.html" in server.error_page


# --- from a review of the site -----------------------------------------------------------


def test_a_source_page_shows_which_passage_contradicts_its_fact(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    put(
        content,
        "facts/other.yaml",
        CARD.replace("Putin gave Kim a car.", "Kim bought a car.") + "    stance: contradicts\n",
    )
    result = invoke("build", str(content), "--out", str(tmp_path / "site"), "--no-cache")
    assert result.exit_code == 0, result.output
    page = (tmp_path / "site/sources/wire.html").read_text()
    assert 'data-q="q-gift-1 q-other-1" class="contradicts"' in page  # the passage, marked
    assert 'class="cite stance-contradicts" href="../facts/other.html#e1"' in page
    assert "cited by fact other, quote 1, which it contradicts" in page
    assert "cited by fact gift, quote 1</span>" in page  # the supporting one as before


def test_headings_in_notes_and_descriptions_sit_below_the_pages_own(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    put(content, "facts/gift.yaml", CARD + "    note: |\n      # A note\n")
    put(
        content,
        "sources/wire.yaml",
        (content / "sources/wire.yaml").read_text() + "notes: |\n  # Source notes\n",
    )
    put(content, "entities.yaml", "putin:\n  name: Vladimir Putin\n  description: |\n    # Who\n")
    result = invoke("build", str(content), "--out", str(tmp_path / "site"), "--no-cache")
    assert result.exit_code == 0, result.output
    site = tmp_path / "site"
    assert "<h3>A note</h3>" in (site / "facts/gift.html").read_text()  # under Evidence, an h2
    assert "<h2>Source notes</h2>" in (site / "sources/wire.html").read_text()  # under the h1
    assert "<h3>Who</h3>" in (site / "entities.html").read_text()  # under the entity's h2


def test_a_source_in_its_own_language_and_direction(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    put(content, "sources/wire.yaml", (content / "sources/wire.yaml").read_text() + "language: he\n")
    result = invoke("build", str(content), "--out", str(tmp_path / "site"), "--no-cache")
    assert result.exit_code == 0, result.output
    assert '<div class="source-text" lang="he">' in (tmp_path / "site/sources/wire.html").read_text()
    assert '" lang="he"><p dir="auto">Putin gave' in (tmp_path / "site/facts/gift.html").read_text()
    put(content, "sources/wire.yaml", (content / "sources/wire.yaml").read_text().replace("he\n", "Hebrew\n"))
    result = invoke("build", str(content), "--out", str(tmp_path / "site"), "--no-cache")
    assert result.exit_code == 0, result.output
    assert '<div class="source-text">' in (tmp_path / "site/sources/wire.html").read_text()  # no tag


def test_stats_counts_in_words_and_fails_on_content_with_errors(in_tmp: Path) -> None:
    content = make_content(in_tmp / "content")
    result = invoke("stats", "content")
    assert result.exit_code == 0
    assert result.stdout.startswith("1 fact, 1 quote, 1 source, 1 entity\n")  # (was "1 sources, 1 entities")
    put(content, "facts/bad.yaml", "claim: [unclosed\n")
    result = invoke("stats", "content")
    assert_no_crash(result)
    assert result.exit_code == 1  # the figures leave the card out: not the whole
    assert result.stdout.startswith("1 fact, 1 quote,")
    assert "the content has 1 error(s), which these figures leave out" in result.stderr


def test_the_list_of_sources_counts_in_words(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    assert invoke("build", str(content), "--out", str(tmp_path / "site")).exit_code == 0
    assert "1 quote in 1 fact · " in (tmp_path / "site/sources.html").read_text()


def test_an_undefined_name_in_a_template_is_reported_with_its_file_and_line(tmp_path: Path) -> None:
    content = make_content(tmp_path / "content")
    put(
        tmp_path,
        "templates/404.html",
        '{% extends "base.html" %}{% block main %}\n{{ nope.x }}{% endblock %}\n',
    )
    result = invoke("build", str(content), "--out", str(tmp_path / "site"))
    assert_no_crash(result)
    assert result.exit_code == 1
    assert f"{tmp_path / 'templates/404.html'}:2: error[template]" in result.output
    assert "UndefinedError: 'nope' is undefined" in result.output


def test_schema_of_one_kind_written_alone(tmp_path: Path) -> None:
    result = invoke("schema", "fact", "--out", str(tmp_path / "schemas"))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "schemas").iterdir()) == ["fact.schema.json"]  # (it wrote four)
    result = invoke("schema", "--out", str(tmp_path / "all"))
    assert len(list((tmp_path / "all").iterdir())) == 4


# --- a comment that cuts a value short is said, not silently dropped ----------------------


def test_a_claim_cut_by_a_comment_is_warned_and_strict_fails(in_tmp: Path) -> None:
    """'the #1 priority' unquoted is 'the' to YAML: the claim published would be cut."""
    card = CARD.replace("claim: Putin gave Kim a car.", "claim: The car was Kim's #1 gift")
    result = checked(in_tmp, "facts/gift.yaml", card, "--no-cache")
    assert result.exit_code == 0, result.output
    assert (
        "content/facts/gift.yaml:1:8: warning[comment-cuts-text] 'claim' stops at ' #', where YAML "
        "starts a comment: it reads 'The car was Kim's'; if the # belongs to it, put the whole value"
    ) in result.output
    assert invoke("check", "content", "--no-cache", "--strict").exit_code == 1


@pytest.mark.parametrize(
    ("rel", "text", "where"),
    [
        ("sources/wire.yaml", "title: Wire #5 report\n", "sources/wire.yaml:1:8"),
        ("entities.yaml", "putin:\n  name: Vladimir #Putin\n", "entities.yaml:2:9"),
        ("facts/gift.yaml", CARD + "tags:\n  - cars #1\n", "facts/gift.yaml:9:5"),
        # (an '&' sends the card down the event-by-event reader: it tells the same)
        ("facts/gift.yaml", CARD.replace("a car.", "a car & a #1 gift"), "facts/gift.yaml:1:8"),
    ],
)
def test_any_text_cut_by_a_comment_is_warned(in_tmp: Path, rel: str, text: str, where: str) -> None:
    result = checked(in_tmp, rel, text, "--no-cache")
    assert f"content/{where}: warning[comment-cuts-text]" in result.output, result.output


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("claim: Putin gave Kim a car.", 'claim: "Putin gave Kim a #1 car."  # the gift'),  # quoted
        ("status: confirmed", "status: confirmed  #two sources"),  # a choice
        # A comment as comments are written, a space after the #: the scaffold's hint kept.
        ("claim: Putin gave Kim a car.", "claim: Putin gave Kim a car. # the claim, in one sentence"),
        ("entities: [putin]", "entities: [putin]\ntags:\n  - cars  # a tag"),
    ],
)
def test_a_comment_as_written_or_a_quoted_value_is_not_warned(in_tmp: Path, old: str, new: str) -> None:
    card = CARD.replace(old, new)
    assert card != CARD
    result = checked(in_tmp, "facts/gift.yaml", card, "--no-cache", "--strict")
    assert result.exit_code == 0, result.output
    assert "comment-cuts-text" not in result.output

"""Source-text extraction (issue 7): the text a reader sees in txt, md, HTML and PDF sources.

HTML cases are written inline. PDFs are made here, with reportlab and the Vera font it
ships (so no system font is needed), or written by hand where a PDF must be broken in a
way no generator produces. Quotes are checked with the real verifier on the extracted text.
"""

from __future__ import annotations

import importlib
import io
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import dossier.extract as dossier_extract
from dossier.extract import Extracted, ExtractError, TextBox, assemble_pdf, extract, page_of, reading_order
from dossier.quotes import Match, Miss, Settings, Source, verify


def found(quote: str, text: str) -> Match | None:
    result = verify(quote, Source(text))
    return result if isinstance(result, Match) else None


def html(body: str, head: str = "", charset: str | None = "utf-8") -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    page = f"<!doctype html><html><head>{meta}{head}</head><body>{body}</body></html>"
    return extract("html", page.encode()).text


# --- plain text and Markdown ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["txt", "md"])
def test_text_is_utf8_with_bom_removed_and_crlf_kept(kind: str) -> None:
    got = extract(kind, "\ufeffLine one\r\nLine two \u2019\r\n".encode())
    assert got == Extracted("Line one\r\nLine two \u2019\r\n")
    assert got.pages == ()
    assert page_of(got, 3) is None


def test_text_that_is_not_utf8_raises_unicode_error() -> None:
    with pytest.raises(UnicodeDecodeError):
        extract("txt", b"caf\xe9 au lait")


def test_unknown_kind_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown source kind"):
        extract("docx", b"")


# --- HTML: what is not text ----------------------------------------------------------------

STORY = "The car was delivered to the leader's top aides on Sunday."


def test_script_style_and_comment_text_is_not_found() -> None:
    text = html(
        "<script>var s = 'only in the script tag';</script>"
        "<style>/* only in the style sheet */</style>"
        "<!-- only in the comment here -->"
        f"<p>{STORY}</p>"
        "<template><p>only in the template</p></template>"
        "<noscript>only without scripts here</noscript>"
        "<svg><text>only in the drawing</text></svg>"
    )
    assert text == STORY
    assert found("The car was delivered", text)
    for quote in (
        "only in the script tag",
        "only in the style sheet",
        "only in the comment here",
        "only in the template",
        "only without scripts here",
        "only in the drawing",
    ):
        assert found(quote, text) is None, quote


def test_title_and_head_are_not_body_text() -> None:
    text = html(f"<p>{STORY}</p>", head="<title>The page title words</title><style>p{{}}</style>")
    assert text == STORY


def test_an_unclosed_head_ends_where_the_body_starts() -> None:
    raw = f"<html><head><title>Title words here</title><p>{STORY}</p>".encode()
    assert extract("html", raw).text == STORY
    raw = f"<head><meta charset=utf-8><title>T</title>{STORY}".encode()
    assert extract("html", raw).text == STORY


def test_attributes_are_never_text() -> None:
    text = html('<p title="a tooltip here">Seen <img alt="the alt text here" src="x.png"> words</p>')
    assert text == "Seen words"
    assert found("the alt text here", text) is None


@pytest.mark.parametrize(
    "markup",
    [
        "<p hidden>secret hidden words</p>",
        "<div hidden=''><p>secret hidden words</p></div>",
        '<p aria-hidden="true">secret hidden words</p>',
        '<p style="color: red; display:none">secret hidden words</p>',
        '<p style="DISPLAY: NONE !important">secret hidden words</p>',
        '<p style="visibility: hidden">secret hidden words</p>',
        '<span class="sr-only">secret hidden words</span>',
        '<span class="icon visually-hidden">secret hidden words</span>',
        "<dialog><p>secret hidden words</p></dialog>",
        "<button>secret hidden words</button>",
        "<select><option>secret hidden words</option></select>",
        "<textarea>secret hidden words</textarea>",
        "<iframe>secret hidden words</iframe>",
        "<video>secret hidden words</video>",
        "<ruby>字<rt>secret hidden words</rt></ruby>",
    ],
)
def test_hidden_text_is_not_found(markup: str) -> None:
    text = html(f"<p>{STORY}</p>{markup}<p>After it.</p>")
    assert found("secret hidden words", text) is None
    assert found("The car was delivered", text)
    assert text.endswith("After it.")


def test_until_found_and_open_dialog_and_details_are_visible() -> None:
    text = html(
        '<div hidden="until-found">findable words here</div>'
        "<dialog open>open dialog words</dialog>"
        "<details><summary>More</summary>folded away words</details>"
    )
    assert text == "findable words here\n\nopen dialog words\n\nMore\n\nfolded away words"


def test_visibility_visible_inside_hidden_shows_again() -> None:
    text = html('<p style="visibility:hidden">gone <span style="visibility: visible">back again</span> x</p>')
    assert text == "back again"


def test_a_hidden_list_item_closed_implicitly_does_not_hide_its_siblings() -> None:
    text = html("<ul><li>one<li hidden>two<li>three</ul><p hidden>four<p>five")
    assert text == "one\n\nthree\n\nfive"


@pytest.mark.parametrize(
    "furniture",
    [
        "<nav>menu words here</nav>",
        "<aside>menu words here</aside>",
        '<div role="navigation">menu words here</div>',
        '<div role="banner">menu words here</div>',
        '<div role="contentinfo">menu words here</div>',
        '<div role="complementary">menu words here</div>',
        '<form role="search">menu words here</form>',
        "<header>menu words here</header>",
        "<footer>menu words here</footer>",
    ],
)
def test_page_furniture_is_not_found(furniture: str) -> None:
    text = html(f"{furniture}<div><p>{STORY}</p></div>{furniture}")
    assert text == STORY
    assert found("menu words here", text) is None


def test_an_articles_header_and_a_blockquotes_footer_are_kept() -> None:
    text = html(
        "<header>Site masthead</header>"
        "<article><header><h1>The headline</h1><p>By A. Reporter</p></header>"
        "<p>Body text.</p><blockquote><p>Quoted words.</p><footer>The speaker</footer></blockquote>"
        "<aside>Pull quote</aside></article>"
        "<footer>Copyright notice</footer>"
    )
    assert text == "The headline\n\nBy A. Reporter\n\nBody text.\n\nQuoted words.\n\nThe speaker"


def test_a_saved_news_page_keeps_only_the_story() -> None:
    page = """<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Kim Jong Un receives car as gift from Putin | News</title>
<meta name="description" content="Words only in the meta description.">
<meta property="og:title" content="Words only in the open graph title">
<script type="application/ld+json">{"articleBody": "Words only in the structured data block."}</script>
<link rel="stylesheet" href="site.css">
</head>
<body class="single">
<div id="cookie-notice" role="dialog">We use cookies to improve your experience.</div>
<header class="site-header"><a href="/">News</a>
<nav><ul><li><a href="/world">World</a></li></ul></nav></header>
<div class="ad" aria-hidden="true">Advertisement words here</div>
<article class="story">
  <header><h1>North Korea&#8217;s Kim Jong Un receives car as gift from Putin</h1>
  <p class="byline">By <a href="/author">Staff</a> &middot; 08:21 AM February 20, 2024</p></header>
  <figure><img src="car.jpg" alt="Words only in the alt text"><figcaption>Kim inspects the car.
  (Reuters)</figcaption></figure>
  <p>SEOUL &mdash; Russian President Vladimir Putin has gifted North Korean leader Kim
     Jong Un a Russian-made car, state media KCNA said on Tuesday.</p>
  <div class="newsletter" style="display:none">Words only in the hidden newsletter box.</div>
  <p>The car was delivered to Kim&#x2019;s top aides on Feb. 18, KCNA said.</p>
  <aside class="related"><h2>Related stories</h2><ul><li>Another headline words</li></ul></aside>
  <footer class="tags">Tags: North Korea, Russia</footer>
</article>
<section class="comments"><p>Words only in a comment outside the story.</p></section>
<footer class="site-footer"><p>&copy; 2024 News. All rights reserved.</p></footer>
<script>window.dataLayer = ["Words only in the tracking script"];</script>
</body></html>"""
    text = extract("html", page.encode()).text
    assert text == (
        "North Korea\u2019s Kim Jong Un receives car as gift from Putin\n\n"
        "By Staff \u00b7 08:21 AM February 20, 2024\n\n"
        "Kim inspects the car. (Reuters)\n\n"
        "SEOUL \u2014 Russian President Vladimir Putin has gifted North Korean leader Kim Jong Un a "
        "Russian-made car, state media KCNA said on Tuesday.\n\n"
        "The car was delivered to Kim\u2019s top aides on Feb. 18, KCNA said.\n\n"
        "Tags: North Korea, Russia"
    )
    assert found("gifted North Korean leader Kim Jong Un a Russian-made car", text)
    assert found("The car was delivered to Kim's top aides on Feb. 18", text)
    for quote in (
        "Words only in the meta description",
        "Words only in the open graph title",
        "Words only in the structured data block",
        "Words only in the alt text",
        "Words only in the hidden newsletter box",
        "Words only in a comment outside the story",
        "Words only in the tracking script",
        "We use cookies to improve",
        "Advertisement words here",
        "Another headline words",
        "All rights reserved",
    ):
        assert found(quote, text) is None, quote


# --- HTML: main content --------------------------------------------------------------------


def test_with_main_only_main_is_kept() -> None:
    text = html(
        "<div>Cookie banner words</div><main><p>Main words.</p></main><div>Newsletter box words</div>"
        "<article><p>Another story.</p></article>"
    )
    assert text == "Main words."
    assert found("Cookie banner words", text) is None


def test_role_main_counts_as_main() -> None:
    assert html('<div>Outside words</div><div role="main"><p>Inside words.</p></div>') == "Inside words."


def test_with_one_article_only_the_article_is_kept() -> None:
    text = html(
        "<div>Trending now: other headlines</div>"
        "<article><p>The story.</p><section><article><p>A reader comment.</p></article></section></article>"
        "<div>Recommended for you</div>"
    )
    assert text == "The story.\n\nA reader comment."


def test_with_several_articles_and_no_main_the_body_is_kept() -> None:
    text = html("<p>Intro.</p><article><p>One.</p></article><article><p>Two.</p></article>")
    assert text == "Intro.\n\nOne.\n\nTwo."


def test_a_hidden_main_does_not_count() -> None:
    assert html("<main hidden>Old words</main><p>Visible words.</p>") == "Visible words."


# --- HTML: entities, blocks, whitespace ----------------------------------------------------


def test_entities_are_decoded_and_found() -> None:
    text = html("<p>Kim &amp; Putin said it&#8217;s a &ldquo;gift&rdquo;&nbsp;today &#x2014; twice.</p>")
    assert text == "Kim & Putin said it\u2019s a \u201cgift\u201d\u00a0today \u2014 twice."
    assert found("Kim & Putin said it's a \"gift\" today - twice", text)


def test_blocks_are_paragraphs_and_br_a_line() -> None:
    text = html(
        "<h1>Title</h1><p>First para.</p><div>Second <b>para</b>.<br>Next line.</div>"
        "<ul><li>Item one</li><li>Item two</li></ul><table><tr><td>Cell A</td><td>Cell B</td></tr></table>"
        "<figure><img src=x><figcaption>A caption.</figcaption></figure><dl><dt>Term</dt><dd>Def</dd></dl>"
        "<p>x<br><br>y</p>"
    )
    assert text == (
        "Title\n\nFirst para.\n\nSecond para.\nNext line.\n\nItem one\n\nItem two\n\nCell A\n\nCell B"
        "\n\nA caption.\n\nTerm\n\nDef\n\nx\n\ny"
    )


def test_a_quote_across_two_paragraphs_matches_since_whitespace_folds() -> None:
    text = html("<p>The talks ended.</p><p>Both sides left.</p>")
    assert text == "The talks ended.\n\nBoth sides left."
    assert found("The talks ended. Both sides left", text)


def test_inline_whitespace_collapses_as_in_a_browser() -> None:
    text = html("<p>\n   Several\t\tspaces   and\n\nnew lines <i> in </i> <b>between</b>  .  </p>")
    assert text == "Several spaces and new lines in between ."
    assert html("<p>one<span> </span>two</p><p>three<b>four</b></p>") == "one two\n\nthreefour"


def test_pre_keeps_its_whitespace() -> None:
    text = html("<p>Before.</p><pre>\n  line   one\n    line two\n</pre><p>After.</p>")
    assert text == "Before.\n\n  line   one\n    line two\n\nAfter."
    assert html('<p style="white-space: pre">a  b</p>') == "a  b"


def test_crlf_in_html_becomes_lf() -> None:
    got = extract("html", b"<pre>a\r\nb\rc</pre>")
    assert got.text == "a\nb\nc"


def test_slash_on_a_non_void_element_does_not_close_it() -> None:
    # "<div hidden/>" is a start tag in HTML: what follows is inside the hidden div.
    assert html("<p>Seen.</p><div hidden/>Unseen.</div><p>Seen too.</p>") == "Seen.\n\nSeen too."
    assert html("<p>Seen.</p><svg><path/><text>unseen</text></svg><p>Seen too.</p>") == "Seen.\n\nSeen too."


def test_unclosed_inline_tags_and_stray_end_tags_are_harmless() -> None:
    assert html("<p><b>bold <i>both</p><p>plain</b></i></span></p>") == "bold both\n\nplain"


# --- HTML: encodings -----------------------------------------------------------------------


def test_meta_charset_is_used() -> None:
    raw = b'<meta charset="windows-1252"><p>it\x92s \x93quoted\x94 caf\xe9</p>'
    assert extract("html", raw).text == "it\u2019s \u201cquoted\u201d caf\u00e9"


def test_http_equiv_charset_is_used() -> None:
    raw = (
        '<head><meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS"></head>'
        "<p>東京の会議</p>"
    ).encode("cp932")
    assert extract("html", raw).text == "東京の会議"


def test_latin1_label_is_read_as_windows_1252_like_a_browser() -> None:
    assert extract("html", b"<meta charset=iso-8859-1><p>\x93a\x94</p>").text == "\u201ca\u201d"


def test_default_is_utf8_and_a_bad_byte_is_reported_with_its_offset() -> None:
    assert extract("html", "<p>caf\u00e9</p>".encode()).text == "caf\u00e9"
    with pytest.raises(ExtractError, match=r"not valid UTF-8: byte 0xe9 at offset 6") as info:
        extract("html", b"<p>caf\xe9</p>")
    assert info.value.offset == 6


def test_a_meta_charset_in_a_comment_is_ignored() -> None:
    raw = "<!-- <meta charset=koi8-r> --><p>caf\u00e9</p>".encode()
    assert extract("html", raw).text == "caf\u00e9"


def test_an_unknown_charset_is_an_error() -> None:
    with pytest.raises(ExtractError, match="character set 'klingon-8'"):
        extract("html", b"<meta charset=klingon-8><p>x</p>")


def test_a_bom_wins_over_meta() -> None:
    raw = "\ufeff<meta charset=windows-1252><p>\u2019</p>".encode("utf-16-le")
    assert extract("html", raw).text == "\u2019"
    assert extract("html", b"\xef\xbb\xbf<p>\xe2\x80\x99</p>").text == "\u2019"


# --- PDF: the rules, on text boxes (no PDF library needed) ---------------------------------


def test_pages_and_paragraphs_are_assembled() -> None:
    got = assemble_pdf([[["Header"], ["First line", "second line"]], [], [["Third page"]]])
    assert got.text == "Header\n\nFirst line\nsecond line\n\nThird page"
    assert got.pages == (0, len("Header\n\nFirst line\nsecond line\n\n"), len(got.text) - len("Third page"))
    assert [page_of(got, o) for o in (0, 8, len(got.text) - 1)] == [1, 1, 3]


def test_a_hyphenated_word_is_joined_and_the_rest_moves_up() -> None:
    got = assemble_pdf([[["The two sides signed a bilat-", "eral accord on Tuesday."]]])
    assert got.text == "The two sides signed a bilateral\naccord on Tuesday."
    assert found("signed a bilateral accord", got.text)


@pytest.mark.parametrize(
    ("lines", "text"),
    [
        # A capitalised fragment is a compound's first part: the hyphen stays.
        (["a Russian-", "made car"], "a Russian-made\ncar"),
        # A capital after the break keeps the hyphen too.
        (["the anti-", "American protests"], "the anti-American\nprotests"),
        # Part of a longer compound.
        (["a state-of-the-", "art plant"], "a state-of-the-art\nplant"),
        # The document's own words decide: "well-known" occurs elsewhere.
        (["a well-", "known fact", "and a well-known one"], "a well-known\nfact\nand a well-known one"),
        # ... and so does "Pyongyang", though the fragment is capitalised.
        (["in Pyong-", "yang today", "Pyongyang said"], "in Pyongyang\ntoday\nPyongyang said"),
        # Without evidence, a lowercase fragment loses its hyphen (a known limit).
        (["a well-", "known fact"], "a wellknown\nfact"),
        # A soft hyphen always goes.
        (["infor\u00ad", "mation"], "information"),
        # Digits and punctuation before a hyphen: kept, joined without a space.
        (["in 1990-", "2000 they"], "in 1990-2000\nthey"),
        (["the U.S.-", "led talks"], "the U.S.-led\ntalks"),
        (["the COVID-", "19 rules"], "the COVID-19\nrules"),
        # An em dash right after a word joins; one after a space does not.
        (["the car\u2014", "a gift"], "the car\u2014a\ngift"),
        (["the car \u2014", "a gift"], "the car \u2014\na gift"),
        # A hyphen standing alone, or before a non-letter, does not join.
        (["items -", "more"], "items -\nmore"),
        (["word-", "\u201cquoted\u201d"], "word-\n\u201cquoted\u201d"),
    ],
)
def test_line_end_hyphen_rules(lines: list[str], text: str) -> None:
    assert assemble_pdf([[lines]]).text == text


def test_a_word_hyphenated_across_boxes_and_pages_is_joined() -> None:
    got = assemble_pdf([[["End of a column bilat-"]], [["eral talks went on."]]])
    assert got.text == "End of a column bilateral\ntalks went on."
    assert got.pages == (0, got.text.index("talks"))
    assert page_of(got, got.text.index("talks")) == 2
    # Across boxes, a capital after the hyphen is not taken as the same word.
    assert assemble_pdf([[["the end of a line-"], ["Running Header"]]]).text == (
        "the end of a line-\n\nRunning Header"
    )


def test_ligatures_become_letters_and_nothing_else_is_folded() -> None:
    line = "The of\ufb01cial \ufb02ag, the \ufb03x \ufb00 \ufb04 \ufb05 \ufb06 10\u2076 \u2460"
    got = assemble_pdf([[[line]]])
    assert got.text == "The official flag, the ffix ff ffl st st 10\u2076 \u2460"
    assert found("The official flag", got.text)


def test_glyphs_without_unicode_become_replacement_characters() -> None:
    got = assemble_pdf([[["Most of this line is fine (cid:12) here."]]])
    assert got.text == "Most of this line is fine \ufffd here."
    with pytest.raises(ExtractError, match="no Unicode map"):
        assemble_pdf([[["(cid:1)(cid:2)(cid:3) ab"]]])


def test_no_text_at_all_is_an_error() -> None:
    with pytest.raises(ExtractError, match="no text layer on any page"):
        assemble_pdf([[], [["   "]]])


def test_page_of_edges() -> None:
    got = Extracted("abc\n\ndef", (0, 5))
    assert [page_of(got, o) for o in (-1, 0, 4, 5, 8, 100)] == [1, 1, 1, 2, 2, 2]


# --- PDF: real files -------------------------------------------------------------------------


def need(module: str) -> ModuleType:
    """Import a module the PDF tests need: a failure on CI, a skip elsewhere."""
    try:
        return importlib.import_module(module)
    except ImportError:
        message = f"{module} is not installed: pip install -e '.[test]'"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


Draw = Callable[[Any], None]


def make_pdf(*pages: Draw, encrypt: tuple[str, str] | None = None, compress: bool = True) -> bytes:
    """A PDF whose pages are drawn by ``pages`` on a reportlab canvas, in the Vera font."""
    need("pdfminer")
    need("reportlab")
    from reportlab.lib import pdfencrypt
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen.canvas import Canvas

    reportlab = importlib.import_module("reportlab")
    if "Vera" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("Vera", str(Path(reportlab.__file__).parent / "fonts" / "Vera.ttf")))
    buf = io.BytesIO()
    security = None
    if encrypt is not None:
        security = pdfencrypt.StandardEncryption(encrypt[0], ownerPassword=encrypt[1], strength=128)
    canvas = Canvas(buf, pagesize=(595, 842), encrypt=security, pageCompression=compress, invariant=True)
    for draw in pages:
        canvas.setFont("Vera", 11)
        draw(canvas)
        canvas.showPage()
    canvas.save()
    return buf.getvalue()


def lines(*texts: str, x: float = 72, y: float = 760, leading: float = 14, size: float = 11) -> Draw:
    """Draw lines of text downwards; an empty string leaves a paragraph gap."""

    def draw(c: Any) -> None:
        c.setFont("Vera", size)
        at = y
        for text in texts:
            if text:
                c.drawString(x, at, text)
            at -= leading

    return draw


def furniture(number: int) -> Draw:
    def draw(c: Any) -> None:
        c.setFont("Vera", 8)
        c.drawString(72, 810, "The Daily Report")
        c.drawString(290, 40, str(number))

    return draw


def both(*draws: Draw) -> Draw:
    def draw(c: Any) -> None:
        for d in draws:
            d(c)

    return draw


ARTICLE_PAGE_1 = (
    "The two governments signed a bilat-",
    "eral agreement on Tuesday after talks.",
    "",
    "Putin gave Kim Jong Un a Russian-",
    "made car, state media said. The of\ufb01cial",
    "\ufb02ag was raised at the \ufb01nal ceremony.",
)
ARTICLE_PAGE_2 = ("The second page says the convoy left", "at dawn and nobody was hurt.")


def article_pdf() -> bytes:
    return make_pdf(
        both(furniture(1), lines(*ARTICLE_PAGE_1)),
        both(lines(*ARTICLE_PAGE_2), furniture(2)),  # drawn before its header: order is by layout
    )


def test_pdf_paragraphs_hyphenation_ligatures_and_pages() -> None:
    got = extract("pdf", article_pdf())
    assert got.text == (
        "The Daily Report\n\n"
        "The two governments signed a bilateral\nagreement on Tuesday after talks.\n\n"
        "Putin gave Kim Jong Un a Russian-made\ncar, state media said. The official\n"
        "flag was raised at the final ceremony.\n\n"
        "1\n\n"
        "The Daily Report\n\n"
        "The second page says the convoy left\nat dawn and nobody was hurt.\n\n"
        "2"
    )
    assert len(got.pages) == 2
    assert got.pages[0] == 0
    assert got.text[got.pages[1] :].startswith("The Daily Report\n\nThe second page")


def test_pdf_quote_across_a_hyphenated_line_break_is_found() -> None:
    text = extract("pdf", article_pdf()).text
    match = found("The two governments signed a bilateral agreement on Tuesday", text)
    assert match is not None
    assert text[match.start : match.end] == "The two governments signed a bilateral\nagreement on Tuesday"
    assert found("Putin gave Kim Jong Un a Russian-made car", text)
    assert found("signed a bilat-eral agreement", text) is None


def test_pdf_ligature_is_found_by_its_letters() -> None:
    text = extract("pdf", article_pdf()).text
    assert "\ufb01" not in text and "\ufb02" not in text
    assert found("The official flag was raised at the final ceremony", text)


def test_pdf_page_of_a_quote_on_page_two() -> None:
    got = extract("pdf", article_pdf())
    match = found("the convoy left at dawn", got.text)
    assert match is not None
    assert page_of(got, match.start) == 2
    first = found("state media said", got.text)
    assert first is not None
    assert page_of(got, first.start) == 1


def test_pdf_two_columns_are_read_column_by_column() -> None:
    left = ("The left column tells how", "the delegation travelled", "north by train.")
    right = ("The right column says the", "officials signed nothing", "in public.")

    def interleaved(c: Any) -> None:  # the worst stream order: row by row across the gutter
        for i, (a, b) in enumerate(zip(left, right, strict=True)):
            c.drawString(72, 760 - 14 * i, a)
            c.drawString(310, 760 - 14 * i, b)

    text = extract("pdf", make_pdf(interleaved)).text
    assert found("The left column tells how the delegation travelled north by train", text)
    assert found("The right column says the officials signed nothing in public", text)


def test_pdf_justified_columns_keep_their_words_in_order() -> None:
    need("reportlab")
    from reportlab.lib.enums import TA_JUSTIFY
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph

    make_pdf(lines("x"))  # registers the font
    buf = io.BytesIO()
    doc = BaseDocTemplate(buf, pagesize=(595, 842), invariant=True)
    width = (595 - 144 - 20) / 2
    doc.addPageTemplates(
        [PageTemplate(frames=[Frame(72, 72, width, 698), Frame(92 + width, 72, width, 698)])]
    )
    style = ParagraphStyle(
        "body", fontName="Vera", fontSize=10, leading=13, alignment=TA_JUSTIFY, spaceAfter=8
    )
    sentence = (
        "Paragraph {n} tells how the delegation travelled north by train, met officials, and "
        "signed documents that nobody outside the room has read in full. "
    )
    doc.build([Paragraph(sentence.format(n=n) * 3, style) for n in range(40)])
    got = extract("pdf", buf.getvalue())
    assert len(got.pages) >= 3
    for n in range(40):
        quote = sentence.format(n=n).strip() + " " + sentence.format(n=n).strip()
        assert found(quote, got.text), n
    assert page_of(got, got.text.index("Paragraph 39 tells")) == len(got.pages)


def test_pdf_word_hyphenated_across_a_page_break_is_joined() -> None:
    got = extract("pdf", make_pdf(lines("The end of the page has a bilat-"), lines("eral pact in it.")))
    assert found("has a bilateral pact", got.text)
    assert page_of(got, got.text.index("pact")) == 2


def test_pdf_soft_hyphen_at_a_line_end() -> None:
    text = extract("pdf", make_pdf(lines("the infor\u00ad", "mation was leaked"))).text
    assert found("the information was leaked", text)


def test_pdf_text_in_a_form_xobject_is_found() -> None:
    def form(c: Any) -> None:
        c.beginForm("box")
        c.setFont("Vera", 11)
        c.drawString(72, 700, "Words drawn inside a form object.")
        c.endForm()
        c.doForm("box")

    assert found("Words drawn inside a form object", extract("pdf", make_pdf(form)).text)


def test_pdf_text_off_the_page_is_dropped() -> None:
    got = extract("pdf", make_pdf(both(lines("On the page."), lines("Off the page words.", x=2000))))
    assert got.text == "On the page."


def test_pdf_empty_page_between_pages() -> None:
    got = extract("pdf", make_pdf(lines("First page text."), lambda c: None, lines("Third page text.")))
    assert got.text == "First page text.\n\nThird page text."
    assert got.pages == (0, 18, 18)
    assert page_of(got, 18) == 3


def test_pdf_without_text_is_an_error() -> None:
    def picture(c: Any) -> None:
        c.rect(100, 100, 300, 300, fill=1)

    with pytest.raises(ExtractError, match="no text layer on any page"):
        extract("pdf", make_pdf(picture, picture))


def test_pdf_with_a_user_password_is_an_error() -> None:
    data = make_pdf(lines("Secret words here."), encrypt=("user-secret", "owner-secret"))
    with pytest.raises(ExtractError, match="encrypted PDF"):
        extract("pdf", data)


def test_pdf_with_only_an_owner_password_opens() -> None:
    data = make_pdf(lines("Readable words here."), encrypt=("", "owner-secret"))
    assert extract("pdf", data).text == "Readable words here."


def test_not_a_pdf_is_an_error() -> None:
    with pytest.raises(ExtractError, match="not a PDF"):
        extract("pdf", b"<html>This is a web page</html>")


@pytest.mark.parametrize(
    "cut",
    [lambda d: d[: len(d) // 2], lambda d: b"%PDF-1.7\n" + bytes(range(256)) * 4, lambda d: b"%PDF-1.4\n"],
)
def test_damaged_pdf_is_an_extract_error_or_text(cut: Callable[[bytes], bytes]) -> None:
    data = cut(make_pdf(lines("Some words."), lines("More words.")))
    try:
        got = extract("pdf", data)
    except ExtractError as exc:
        assert str(exc)
    else:
        assert isinstance(got.text, str)


def _handmade_pdf(objects: list[bytes]) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def test_pdf_font_without_unicode_map_is_an_error() -> None:
    need("pdfminer")
    content = b"BT /F1 12 Tf 72 700 Td <0001000200030004000500060007> Tj ET"
    data = _handmade_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
            b"/Contents 5 0 R >>",
            b"<< /Type /Font /Subtype /Type0 /BaseFont /Mystery /Encoding /Identity-H "
            b"/DescendantFonts [6 0 R] >>",
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
            b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Mystery /CIDSystemInfo << /Registry (Adobe) "
            b"/Ordering (Identity) /Supplement 0 >> /DW 600 /FontDescriptor 7 0 R >>",
            b"<< /Type /FontDescriptor /FontName /Mystery /Flags 4 /FontBBox [0 0 1000 1000] /ItalicAngle 0 "
            b"/Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 >>",
        ]
    )
    with pytest.raises(ExtractError, match="no Unicode map"):
        extract("pdf", data)


def _helvetica_pdf(content: bytes) -> bytes:
    return _handmade_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
            b"/Contents 5 0 R >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        ]
    )


def test_handmade_pdf_with_a_standard_font() -> None:
    need("pdfminer")
    data = _helvetica_pdf(b"BT /F1 12 Tf 72 700 Td (It\222s the \223gift\224 of a car.) Tj ET")
    text = extract("pdf", data).text
    assert text == "It\u2019s the \u201cgift\u201d of a car."
    assert found("It's the \"gift\" of a car", text)


def test_pdf_extraction_prints_nothing(tmp_path: Path) -> None:
    need("pdfminer")
    # An operand that is not a number makes pdfminer log a warning; Python would print it.
    path = tmp_path / "odd.pdf"
    path.write_bytes(_helvetica_pdf(b"/NotANumber w BT /F1 12 Tf 72 700 Td (Odd but readable.) Tj ET"))
    code = (
        "import sys, pathlib; from dossier.extract import extract; "
        "print(extract('pdf', pathlib.Path(sys.argv[1]).read_bytes()).text)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    assert done.stdout == "Odd but readable.\n"
    assert done.stderr == ""


def test_ten_dense_pages_come_out_whole_and_in_order() -> None:
    words = ["the", "of", "and", "agreement", "bilateral", "sanctions", "official", "vehicle", "delivered"]

    def dense(page: int) -> Draw:
        rows = [f"{page}.{i} " + " ".join(words[(page + i + j) % 9] for j in range(9)) for i in range(50)]
        return lines(*rows, y=800, leading=15)

    data = make_pdf(*(dense(p) for p in range(10)))
    got = extract("pdf", data)
    assert len(got.pages) == 10
    assert len(re.findall(r"\bagreement\b", got.text)) == 500
    assert found("9.49 " + " ".join(words[(9 + 49 + j) % len(words)] for j in range(9)), got.text)


# --- PDF: reading order (no PDF library needed) -----------------------------------------------


def box(x0: float, y0: float, x1: float, y1: float, name: str) -> TextBox:
    return ((x0, y0, x1, y1), [name])


def order(*boxes: TextBox) -> list[str]:
    return [lines[0] for _, lines in reading_order(list(boxes))]


def test_two_columns_under_a_header_with_a_page_number_in_the_gutter() -> None:
    got = order(
        box(300, 40, 310, 50, "page number"),
        box(320, 600, 520, 770, "right top"),
        box(72, 400, 290, 590, "left bottom"),
        box(72, 600, 290, 770, "left top"),
        box(320, 200, 520, 590, "right bottom"),
        box(72, 800, 200, 810, "header"),
    )
    assert got == ["header", "left top", "left bottom", "right top", "right bottom", "page number"]


def test_a_short_last_column_is_read_after_the_first() -> None:
    got = order(box(320, 500, 520, 770, "right"), box(72, 72, 290, 770, "left"))
    assert got == ["left", "right"]


def test_aligned_paragraph_gaps_do_not_split_columns() -> None:
    # Both columns have a 12pt paragraph gap at the same height; the gutter is 12pt too.
    got = order(
        box(72, 412, 290, 770, "L1"), box(302, 412, 520, 770, "R1"),
        box(72, 72, 290, 400, "L2"), box(302, 72, 520, 400, "R2"),
    )
    assert got == ["L1", "L2", "R1", "R2"]


def test_stacked_stories_with_a_wide_gap_are_read_story_by_story() -> None:
    got = order(
        box(72, 500, 290, 770, "A left"), box(302, 500, 520, 770, "A right"),
        box(72, 72, 290, 440, "B left"), box(302, 72, 520, 440, "B right"),
    )
    assert got == ["A left", "A right", "B left", "B right"]


def test_no_gap_is_read_top_to_bottom() -> None:
    assert order(box(72, 100, 300, 200, "lower"), box(200, 150, 400, 300, "upper")) == ["upper", "lower"]


def test_the_parsers_are_imported_only_when_used() -> None:
    """A check or build of text sources never pays for the HTML and PDF parsers' imports."""
    code = (
        "import sys, dossier.cli, dossier.build, dossier.extract as x; "
        "print(sorted(m for m in ('dossier.extract.html', 'dossier.extract.pdf') if m in sys.modules)); "
        "x.html_text; print('dossier.extract.html' in sys.modules); "
        "print(x.extract('html', b'<p>Hi</p>').text)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["[]", "True", "Hi"]
    with pytest.raises(AttributeError, match="no attribute 'nonesuch'"):
        dossier_extract.nonesuch  # noqa: B018


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>It cost 10<sup>6</sup> dollars.</p>", "It cost 10⁶ dollars."),
        ("<p>H<sub>2</sub>O and x<sup>-1</sup></p>", "H₂O and x⁻¹"),
        ("<p>the 1<sup>st</sup> time</p>", "the 1st time"),  # no raised letter for every letter
        ("<p>said.<sup><a href='#n3'>3</a></sup> Then</p>", "said.³ Then"),
    ],
)
def test_a_superscript_reads_raised_never_as_more_digits(markup: str, text: str) -> None:
    """``10<sup>6</sup>`` is 10⁶: read as 106, a quote could claim a number the source
    never gave (SPEC §3: 10⁶ is not 106)."""
    assert html(markup) == text
    source = Source(html("<p>The plan cost 10<sup>6</sup> dollars in all.</p>"))
    assert isinstance(verify("cost 106 dollars", source, Settings()), Miss)
    assert isinstance(verify("cost 10⁶ dollars", source, Settings()), Match)

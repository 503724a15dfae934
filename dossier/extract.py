"""The text a reader sees in a source file: plain text, Markdown, HTML or PDF (issue 7).

``extract(kind, data)`` turns a source file's bytes into the text that quotes are checked
against (SPEC §3) and that the source page shows. It is pure: no printing, no files.

Plain text and Markdown (``txt``, ``md``)
    Strict UTF-8; a leading BOM is removed; nothing else changes (CRLF stays CRLF).
    A ``UnicodeDecodeError`` is raised through for the loader to report.

HTML (``html``), with the standard library's ``html.parser``
    Encoding: a byte-order mark, else the first ``<meta charset>`` or
    ``<meta http-equiv="Content-Type" content="…; charset=…">`` in the head, else UTF-8.
    Labels are read as browsers read them (``iso-8859-1``/``ascii`` are windows-1252,
    ``gb2312`` is GBK, ``shift_jis`` is cp932, ``euc-kr`` is cp949, a ``utf-16`` meta is
    UTF-8). Bytes that do not decode are an ``ExtractError`` naming the byte and its offset.
    Line breaks are first normalised to LF, as an HTML parser does.

    Only text a reader sees is kept:

    - never text: attributes (``alt``, ``title``…), comments, ``<head>`` (so ``<title>``),
      ``script``, ``style``, ``template``, ``noscript`` (a reader has scripts on), ``svg``,
      MathML annotations, the fallback content of embedded things (``iframe``, ``object``,
      ``video``, ``audio``, ``canvas``, ``noembed``, ``noframes``), form controls
      (``button``, ``select``, ``textarea``, ``datalist``), ruby readings (``rt``, ``rp``),
      and a ``<dialog>`` without ``open``;
    - hidden: an element with the ``hidden`` attribute (but ``hidden="until-found"``, which
      find-in-page reveals, is kept), ``aria-hidden="true"``, an inline style with
      ``display: none``, or one of the screen-reader-only classes ``sr-only``,
      ``visually-hidden``, ``visuallyhidden``, ``screen-reader-text``; ``visibility: hidden``
      (or ``collapse``) hides an element's own text but, as in CSS, a descendant with
      ``visibility: visible`` shows again. Other CSS (style sheets, classes) is not applied;
    - page furniture the page marks as such: ``<nav>`` and ``<aside>`` (pull quotes and
      sidebars repeat or sit beside the story), elements with ``role`` ``navigation``,
      ``banner``, ``contentinfo``, ``complementary`` or ``search``, and ``<header>`` and
      ``<footer>`` when they are the page's banner and footer: as in HTML-AAM, when no
      ``article``, ``aside``, ``main``, ``nav``, ``section``, ``blockquote``, ``details``,
      ``dialog``, ``fieldset``, ``figure``, ``td`` or ``th`` encloses them. So an
      article's own ``<header>`` (its headline and byline) and a blockquote's ``<footer>``
      (its attribution) are kept;
    - the main content: when the page has a ``<main>`` (or ``role="main"``), only the text
      inside it is kept; otherwise, when it has exactly one outermost ``<article>`` (one
      not inside another article: comments marked up as nested articles do not count),
      only that article is kept; otherwise the whole body.

    Entities are decoded. Block elements (``p``, ``div``, ``h1``–``h6``, ``li``,
    ``blockquote``, ``section``, ``article``, ``pre``, ``figure``, ``figcaption``, ``dd``,
    ``dt``, ``tr``, ``td``, ``th``, ``hr``…) start and end paragraphs, which are separated
    by a blank line (``"\\n\\n"``); ``<br>`` is one ``"\\n"`` (two in a row a blank line).
    Whitespace is collapsed as a browser does: a run of ASCII whitespace is one space,
    none at the start or end of a line; a no-break space is kept; inside ``<pre>`` (and
    ``listing``, ``xmp``, or an inline ``white-space: pre``/``pre-wrap``/``break-spaces``)
    whitespace is kept as written, less the newline that directly follows ``<pre>``.
    Tags a parser closes implicitly (``<p>``, ``<li>``, ``<dd>``/``<dt>``, table parts,
    ``<option>``, an unclosed ``<head>``) are closed here too, so a hidden ``<li>`` does
    not hide its siblings.

PDF (``pdf``), with pdfminer.six
    pdfminer's layout analysis groups characters into lines and lines into text boxes
    (``LAParams(char_margin=3.0, all_texts=True, boxes_flow=None)``: text inside form
    XObjects is analysed too; ``char_margin`` 3 rather than 2 keeps the words of a widely
    justified line on one line). The boxes are then put in reading order by a recursive
    XY-cut (``reading_order``): columns left to right, rows top to bottom, a row gap cut
    first only when it is clearly wider than the widest column gap. A text box is a
    paragraph: its lines are joined by ``"\\n"``, boxes and pages by ``"\\n\\n"``.
    ``Extracted.pages`` holds the offset where each page's text starts (a page without
    text starts where the next one does).

    - Ligatures U+FB00–U+FB06 (``ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ``) become their letters (NFKC of those seven
      code points only: SPEC §3 forbids NFKC in general).
    - Glyphs whose font gives no Unicode value (pdfminer's ``(cid:N)``) become U+FFFD; when
      most of the text is such glyphs, or no page has any text (a scan without OCR), or
      the file is not a PDF, needs a password, or cannot be parsed, ``ExtractError`` says
      so. A PDF with only an owner password (copy "protection") opens as a reader opens it.
    - A line that ends in a hyphen after a letter, followed by a line that starts with a
      letter, is joined (the rest of the word moves up, so line structure stays):

      * a soft hyphen (U+00AD) always goes: ``bilat\\u00ad`` + ``eral`` is ``bilateral``;
      * when the next line starts with a capital, the hyphen stays (``anti-`` +
        ``American`` is ``anti-American``) — within one text box only;
      * otherwise the document itself decides: if the joined word (``bilateral``) occurs
        elsewhere in it and the hyphenated form (``Russian-made``) does not, the hyphen
        goes; if the reverse, it stays;
      * failing that, the hyphen stays when the fragment before it starts with a capital
        (``Russian-`` + ``made``, ``Soviet-`` + ``era``) or is itself part of a hyphenated
        compound (``state-of-the-`` + ``art``), and goes otherwise (``bilat-`` + ``eral``).
        So an unseen lowercase compound split at its hyphen (``well-`` + ``known``)
        becomes one word: a known limit, named here.

      A dash or hyphen after a digit or punctuation (``1990-`` + ``2000``, ``U.S.-`` +
      ``led``), or an en or em dash right after a word (``car—`` + ``a gift``), joins the
      next line without a space, within one text box. The same rules join the last line
      of a box (or page) to the first of the next box when it starts lowercase, so a word
      hyphenated across a column or page break is found; a page number or running header
      that stands between them stops the join.
    - Running headers, footers and page numbers are text on the page and are kept (they
      are where the layout analysis puts them, usually first and last on each page); a
      quote that runs across a page break has to skip them with ``...``.
    - Text drawn outside the page's box is dropped. Invisible text (render mode 3, as in
      an OCR layer) is kept: it is the text a reader selects and searches.

    Why pdfminer.six and not pypdf. Both were run on the PDFs tests/test_extract.py makes
    with reportlab, the same rules above applied to each one's lines, counting the quotes
    the verifier finds; speed on 50-page dense single-column files, on this project's
    2-core machine:

    ======================================  =======  ==========  =========  ===========
    file (quotes)                           pypdf    pypdf       pdfminer   pdfminer as
                                            7.1      layout      defaults   used here
    ======================================  =======  ==========  =========  ===========
    article: hyphens, ligatures, 2 pp (4)   4        4           4          4
    two columns, stream interleaved (2)     0        0           2          2
    running header drawn after body (1)     0        1           1          1
    text in a form XObject (1)              1        no text     1          1
    justified two columns, 5 pp (40)        40       1           38         40
    speed, ms a page (several runs)         5–11     7–14        39–86      34–86
    ======================================  =======  ==========  =========  ===========

    pypdf takes text in content-stream order: right whenever the producer writes text in
    reading order (as reportlab's frames do), wrong when it does not (an interleaved
    two-column page read across the gutter; a header drawn last came last), and it gives
    lines only, no paragraphs. Its layout mode keeps columns side by side on one line and
    missed form XObjects. pdfminer with its defaults read a short last column before the
    first (its box order weighs height over position) and split one widely justified line
    into misplaced fragments; ``char_margin`` 3 and the XY-cut fixed both. Neither joins
    hyphenated words or unfolds ligatures: the rules above are ours. Correct text matters
    more here than speed: pdfminer costs 5–8 times pypdf's time, a few seconds for a
    long report.
"""

from __future__ import annotations

import codecs
import io
import logging
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from itertools import pairwise

KINDS = frozenset({"txt", "md", "html", "pdf"})


@dataclass(frozen=True, slots=True)
class Extracted:
    text: str  # the visible text; paragraphs separated by "\n\n"
    pages: tuple[int, ...] = ()  # for PDFs: the offset in `text` where each page starts (pages[0] == 0)


class ExtractError(Exception):
    """A source file whose text cannot be had; the message says plainly why.

    ``offset`` is the byte offset of the problem in the file, where there is one.
    """

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def extract(kind: str, data: bytes) -> Extracted:
    """The visible text of a source file's bytes; ``kind`` is its suffix without the dot."""
    if kind in ("txt", "md"):
        return Extracted(data.decode("utf-8").removeprefix("\ufeff"))
    if kind == "html":
        return Extracted(html_text(decode_html(data)))
    if kind == "pdf":
        return _pdf(data)
    raise ValueError(f"unknown source kind {kind!r}; expected one of {', '.join(sorted(KINDS))}")


def page_of(extracted: Extracted, offset: int) -> int | None:
    """The 1-based page on which ``offset`` of the text stands; None when there are no pages."""
    if not extracted.pages:
        return None
    return max(bisect_right(extracted.pages, offset), 1)


# --- HTML: decoding ------------------------------------------------------------------------

#: Labels browsers read differently from Python's codec of the same name (WHATWG Encoding).
_LABELS = {
    **dict.fromkeys(
        (
            "ascii",
            "us-ascii",
            "iso-8859-1",
            "iso8859-1",
            "iso_8859-1",
            "latin1",
            "latin-1",
            "l1",
            "cp819",
            "ibm819",
            "iso-ir-100",
            "csisolatin1",
            "x-cp1252",
            "windows-1252",
            "cp1252",
            "ansi_x3.4-1968",
        ),
        "cp1252",
    ),
    **dict.fromkeys(("iso-8859-9", "iso8859-9", "latin5", "l5", "windows-1254"), "cp1254"),
    **dict.fromkeys(("tis-620", "iso-8859-11", "windows-874"), "cp874"),
    **dict.fromkeys(("gb2312", "gb_2312", "gb_2312-80", "x-gbk", "gbk", "chinese", "csgb2312"), "gbk"),
    **dict.fromkeys(("shift_jis", "shift-jis", "sjis", "ms_kanji", "x-sjis", "windows-31j"), "cp932"),
    **dict.fromkeys(("euc-kr", "ks_c_5601-1987", "windows-949", "ksc5601", "korean"), "cp949"),
    **dict.fromkeys(("utf-16", "utf-16le", "utf-16be", "unicode", "ucs-2"), "utf-8"),
}
_HEAD_OK = frozenset(
    {
        "html",
        "head",
        "base",
        "basefont",
        "bgsound",
        "link",
        "meta",
        "title",
        "style",
        "script",
        "noscript",
        "template",
    }
)
_HEAD_RAW = frozenset({"title", "script", "style", "noscript", "template"})
_CHARSET_IN_CONTENT = re.compile(r"charset\s*=\s*[\"']?([^\"'\s;]+)", re.IGNORECASE)
_SNIFF_LIMIT = 1 << 16


class _StopScan(Exception):
    pass


class _CharsetScanner(HTMLParser):
    """Finds the first charset a <meta> declares, up to the end of the head."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.label: str | None = None
        self.raw: list[str] = []  # open title, script, style, noscript, template

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HEAD_OK:
            raise _StopScan
        if tag in _HEAD_RAW:
            self.raw.append(tag)
        if tag != "meta":
            return
        a = {k: v or "" for k, v in attrs}
        if a.get("charset", "").strip():
            self.label = a["charset"].strip()
        elif a.get("http-equiv", "").strip().lower() == "content-type":
            m = _CHARSET_IN_CONTENT.search(a.get("content", ""))
            if m:
                self.label = m.group(1)
        if self.label is not None:
            raise _StopScan

    def handle_endtag(self, tag: str) -> None:
        if tag in self.raw:
            del self.raw[self.raw.index(tag) :]

    def handle_data(self, data: str) -> None:
        if data.strip(" \t\n\f\r") and not self.raw:
            raise _StopScan  # text: the body has begun


def _codec(label: str) -> str:
    name = label.strip().lower()
    name = _LABELS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ExtractError(f"the page declares the character set '{label}', which is not known") from None


def decode_html(data: bytes) -> str:
    """An HTML file's text, decoded as a browser would, with line breaks normalised to LF."""
    boms = (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    )
    skip = 0
    encoding = "utf-8"
    label = "UTF-8"
    for bom, name in boms:
        if data.startswith(bom):
            skip, encoding, label = len(bom), name, name.upper()
            break
    else:
        scanner = _CharsetScanner()
        try:
            scanner.feed(data[:_SNIFF_LIMIT].decode("latin-1"))
            scanner.close()
        except _StopScan:
            pass
        if scanner.label is not None:
            encoding = _codec(scanner.label)
            label = scanner.label if encoding != "utf-8" else "UTF-8"
    try:
        text = data[skip:].decode(encoding)
    except UnicodeDecodeError as exc:
        at = skip + exc.start
        raise ExtractError(
            f"not valid {label}: byte 0x{data[at]:02x} at offset {at} cannot be decoded", offset=at
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- HTML: visible text --------------------------------------------------------------------


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_VOID = _names("area base basefont bgsound br col embed hr img input keygen link meta param source track wbr")
_DROP = _names(
    """head title script style template noscript svg annotation annotation-xml iframe object video
    audio canvas noembed noframes button select textarea datalist rt rp"""
)
_BLOCK = _names(
    """address article aside blockquote body caption center dd details dialog dir div dl dt fieldset
    figcaption figure footer form frameset h1 h2 h3 h4 h5 h6 header hgroup hr html legend li listing
    main menu nav ol optgroup option p plaintext pre search section summary table tbody td tfoot th
    thead tr ul xmp"""
)
_CLOSES_P = _names(
    """address article aside blockquote center details dialog dir div dl dd dt fieldset figcaption
    figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr li listing main menu nav ol p plaintext pre
    search section summary table ul xmp"""
)
_SCOPE = frozenset({"html", "table", "td", "th", "caption", "template", "object", "button", "svg", "math"})
_PRE = frozenset({"pre", "listing", "xmp", "plaintext"})
_FURNITURE_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search"})
_SECTIONING = frozenset(
    {
        "article",
        "aside",
        "main",
        "nav",
        "section",
        "blockquote",
        "details",
        "dialog",
        "fieldset",
        "figure",
        "td",
        "th",
    }
)
_SR_ONLY = frozenset({"sr-only", "visually-hidden", "visuallyhidden", "screen-reader-text"})
_HTML_WS = re.compile(r"[ \t\n\f\r]+")


@dataclass(frozen=True, slots=True)
class _State:
    tag: str = ""
    drop: bool = False  # no text of this element or its descendants is seen
    invisible: bool = False  # visibility: hidden (a descendant may be visible again)
    pre: bool = False
    main: bool = False
    article: int = -1  # the outermost enclosing article, numbered; -1 for none
    sectioned: bool = False  # inside a sectioning element (for header/footer)
    foreign: bool = False  # inside svg or math


@dataclass(slots=True)
class _Token:
    text: str  # "" for a break
    breaks: int  # 0 for text, 1 for a line break, 2 for a paragraph break
    pre: bool
    main: bool
    article: int


def _style(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for decl in value.split(";"):
        name, sep, val = decl.partition(":")
        if sep:
            out[name.strip().lower()] = val.lower().replace("!important", "").strip()
    return out


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[_State] = []
        self.tokens: list[_Token] = []
        self.mains = 0
        self.articles = 0
        self.skip_lf = False

    @property
    def top(self) -> _State:
        return self.stack[-1] if self.stack else _State()

    # tree building, simplified from the HTML parsing algorithm --------------------------

    def _pop_through(self, names: frozenset[str], stop: frozenset[str] = _SCOPE) -> bool:
        for i in range(len(self.stack) - 1, -1, -1):
            tag = self.stack[i].tag
            if tag in names:
                del self.stack[i:]
                return True
            if tag in stop:
                return False
        return False

    def _implied_ends(self, tag: str) -> None:
        if self.stack and self.stack[-1].tag == "head" and tag not in _HEAD_OK:
            self.stack.pop()
        if tag == "body":
            self._pop_through(frozenset({"head"}))
        if tag in _CLOSES_P:
            self._pop_through(frozenset({"p"}))
        if tag == "li":
            self._pop_through(frozenset({"li"}), _SCOPE | {"ul", "ol"})
        elif tag in ("dd", "dt"):
            self._pop_through(frozenset({"dd", "dt"}), _SCOPE | {"dl"})
        elif tag in ("option", "optgroup"):
            self._pop_through(frozenset({"option"}) if tag == "option" else frozenset({"option", "optgroup"}))
        elif tag in ("thead", "tbody", "tfoot"):
            self._pop_through(frozenset({"thead", "tbody", "tfoot"}), frozenset({"table"}))
        elif tag == "tr":
            self._pop_through(frozenset({"tr"}), frozenset({"table", "thead", "tbody", "tfoot"}))
        elif tag in ("td", "th"):
            self._pop_through(frozenset({"td", "th"}), frozenset({"tr", "table"}))

    def _child(self, tag: str, attrs: list[tuple[str, str | None]]) -> _State:
        parent = self.top
        a = {k: (v or "") for k, v in attrs}
        style = _style(a.get("style", ""))
        role = a.get("role", "").strip().lower()
        hidden = "hidden" in a and a["hidden"].strip().lower() != "until-found"
        drop = (
            parent.drop
            or tag in _DROP
            or hidden
            or a.get("aria-hidden", "").strip().lower() == "true"
            or style.get("display") == "none"
            or role in _FURNITURE_ROLES
            or tag in ("nav", "aside")
            or (tag in ("header", "footer") and not parent.sectioned)
            or (tag == "dialog" and "open" not in a)
            or not _SR_ONLY.isdisjoint(a.get("class", "").split())
        )
        visibility = style.get("visibility")
        invisible = visibility in ("hidden", "collapse") if visibility else parent.invisible
        white_space = style.get("white-space", "")
        if white_space in ("pre", "pre-wrap", "break-spaces"):
            pre = True
        elif white_space in ("normal", "nowrap", "pre-line"):
            pre = False
        else:
            pre = parent.pre or tag in _PRE
        main = parent.main or tag == "main" or role == "main"
        if main and not parent.main and not drop:
            self.mains += 1
        article = parent.article
        if article < 0 and tag == "article" and not drop:
            article = self.articles
            self.articles += 1
        return _State(
            tag=tag,
            drop=drop,
            invisible=invisible,
            pre=pre,
            main=main,
            article=article,
            sectioned=parent.sectioned or tag in _SECTIONING,
            foreign=parent.foreign or tag in ("svg", "math"),
        )

    # events -----------------------------------------------------------------------------

    def _break(self, n: int) -> None:
        top = self.top
        if not top.drop:
            self.tokens.append(_Token("", n, top.pre, top.main, top.article))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.skip_lf = False
        self._implied_ends(tag)
        if tag == "html":
            return
        if tag == "br":
            self._break(1)
            return
        if tag in _BLOCK:
            self._break(2)
        if tag in _VOID:
            return
        state = self._child(tag, attrs)
        self.stack.append(state)
        if tag in ("pre", "listing", "textarea"):
            self.skip_lf = True

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # "<div/>" is a start tag in HTML; the slash only closes void and foreign elements.
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self.stack and self.stack[-1].tag == tag and self.stack[-1].foreign:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        self.skip_lf = False
        if tag == "br":  # </br> is read as <br>
            self._break(1)
            return
        if tag in ("html", "body"):
            return
        closing_block = tag in _BLOCK
        if closing_block:
            self._break(2)
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                break
        if closing_block:
            self._break(2)

    def handle_data(self, data: str) -> None:
        if self.skip_lf:
            self.skip_lf = False
            if data.startswith("\n"):
                data = data[1:]
        if self.stack and self.stack[-1].tag == "head" and data.strip(" \t\n\f\r"):
            self.stack.pop()  # text in the head starts the body
        top = self.top
        if top.drop or top.invisible or not data:
            return
        self.tokens.append(_Token(data, 0, top.pre, top.main, top.article))


def html_text(markup: str) -> str:
    """The visible text of an HTML document (see the module docstring for the rules)."""
    parser = _Visible()
    parser.feed(markup)
    parser.close()
    tokens = parser.tokens
    if parser.mains:
        tokens = [t for t in tokens if t.main]
    elif parser.articles == 1:
        tokens = [t for t in tokens if t.article == 0]
    return _lay_out(tokens)


def _lay_out(tokens: list[_Token]) -> str:
    parts: list[str] = []  # finished lines and the separators between them
    line: list[str] = []
    trailing_space = False  # the line ends in a collapsible space
    pending = 0  # newlines owed before the next text

    def finish() -> None:
        text = "".join(line)
        parts.append(text[:-1] if trailing_space else text.rstrip("\n"))
        line.clear()

    for tok in tokens:
        if tok.breaks:
            if line:
                finish()
                trailing_space = False
                pending = tok.breaks
            else:
                pending = 2 if tok.breaks == 2 else min(pending + 1, 2)
            continue
        text = tok.text
        if not tok.pre:
            text = _HTML_WS.sub(" ", text)
            if text.startswith(" ") and (not line or trailing_space):
                text = text[1:]
            if not text:
                continue
        if not line and pending and parts:
            parts.append("\n" * pending)
        pending = 0
        line.append(text)
        trailing_space = not tok.pre and text.endswith(" ")
    if line:
        finish()
    return "".join(parts)


# --- PDF -----------------------------------------------------------------------------------

_LIGATURES = str.maketrans({chr(c): unicodedata.normalize("NFKC", chr(c)) for c in range(0xFB00, 0xFB07)})
_CID = re.compile(r"\(cid:\d+\)")
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[ \t]{2,}|\t")
_WORD_RUN = re.compile(r"[^\W\d_]+(?:[-\u2010][^\W\d_]+)*")
_HYPHENS = "-\u2010"
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"
_FIRST = re.compile(r"(\S+)\s*(.*)", re.DOTALL)
_LETTERS_END = re.compile(r"[^\W\d_]+$")
_LETTERS_START = re.compile(r"[^\W\d_]+")
#: Of all non-space characters, the share that may be glyphs without a Unicode value.
_MAX_UNKNOWN = 0.5


@dataclass(slots=True)
class _Line:
    page: int
    box: int
    text: str
    joined: bool = False  # the rest of a line whose start moved up to the line before


@dataclass(slots=True)
class _Vocabulary:
    words: set[str] = field(default_factory=set)
    compounds: set[str] = field(default_factory=set)

    def add(self, text: str) -> None:
        for m in _WORD_RUN.finditer(text):
            parts = re.split(f"[{_HYPHENS}]", m.group().lower())
            if len(parts) == 1:
                self.words.add(parts[0])
            else:
                self.compounds.update(f"{x}-{y}" for x, y in pairwise(parts))


def _pdf(data: bytes) -> Extracted:
    if b"%PDF-" not in data[:1024]:
        raise ExtractError("not a PDF: the file does not begin with '%PDF-'")
    return assemble_pdf(_pdfminer_pages(data))


def _pdfminer_pages(data: bytes) -> list[list[list[str]]]:
    """Each page's text boxes, in reading order, each a list of its lines' text."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams, LTFigure, LTItem, LTPage, LTTextBox, LTTextLine
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    logger = logging.getLogger("pdfminer")
    if not logger.handlers:  # a damaged file's warnings are not ours to print
        logger.addHandler(logging.NullHandler())

    try:
        document = PDFDocument(PDFParser(io.BytesIO(data)), password="")
    except PDFPasswordIncorrect:
        raise ExtractError("encrypted PDF: it needs a password to open; save a copy without one") from None
    except PDFEncryptionError as exc:
        raise ExtractError(f"encrypted PDF with an encryption that cannot be read ({exc})") from None
    except Exception as exc:  # a parser of untrusted input: any failure is a bad file
        raise ExtractError(f"not a readable PDF ({_why(exc)})") from None

    resources = PDFResourceManager(caching=True)
    # boxes_flow=None: pdfminer's own box order is replaced by reading_order() below.
    device = PDFPageAggregator(resources, laparams=LAParams(char_margin=3.0, all_texts=True, boxes_flow=None))
    interpreter = PDFPageInterpreter(resources, device)
    pages: list[list[list[str]]] = []

    def walk(item: Iterable[LTItem], page: Rect, out: list[TextBox]) -> None:
        for child in item:
            if isinstance(child, LTTextBox):
                if child.x1 < page[0] or child.x0 > page[2] or child.y1 < page[1] or child.y0 > page[3]:
                    continue  # drawn off the page
                lines = [line.get_text() for line in child if isinstance(line, LTTextLine)]
                out.append(((child.x0, child.y0, child.x1, child.y1), lines))
            elif isinstance(child, LTFigure):
                walk(child, page, out)

    try:
        for number, page in enumerate(PDFPage.create_pages(document), 1):
            try:
                interpreter.process_page(page)
                layout = device.get_result()
            except Exception as exc:
                raise ExtractError(f"page {number} of the PDF cannot be read ({_why(exc)})") from None
            assert isinstance(layout, LTPage)
            boxes: list[TextBox] = []
            walk(layout, layout.bbox, boxes)
            pages.append([lines for _, lines in reading_order(boxes)])
    except ExtractError:
        raise
    except Exception as exc:
        raise ExtractError(f"the PDF's pages cannot be read ({_why(exc)})") from None
    if not pages:
        raise ExtractError("the PDF has no pages")
    return pages


#: (x0, y0, x1, y1) in PDF space: y grows upwards.
Rect = tuple[float, float, float, float]
TextBox = tuple[Rect, list[str]]
#: How much wider a horizontal gap must be than the widest vertical one to be cut first.
_ROW_BIAS = 1.5


def reading_order(boxes: list[TextBox]) -> list[TextBox]:
    """Text boxes in reading order, by recursive XY-cut.

    A region is cut at the widest band of empty space that runs right across it: between
    columns (read left to right) or between rows (read top to bottom). A row gap is
    preferred only when it is at least 1.5 times as wide as the widest column gap, so two
    columns whose paragraph gaps happen to line up are still read column by column, while
    a running header, a page number standing in the gutter, or a full-width headline is
    cut off first. A region with no gap is read top to bottom.
    """
    if len(boxes) < 2:
        return list(boxes)
    column = _widest_gap([(r[0], r[2]) for r, _ in boxes])
    row = _widest_gap([(r[1], r[3]) for r, _ in boxes])
    if row is not None and (column is None or row[0] >= _ROW_BIAS * column[0]):
        cut = row[1]
        above = [b for b in boxes if b[0][1] >= cut]
        below = [b for b in boxes if b[0][1] < cut]
        return reading_order(above) + reading_order(below)
    if column is not None:
        cut = column[1]
        left = [b for b in boxes if b[0][2] <= cut]
        right = [b for b in boxes if b[0][2] > cut]
        return reading_order(left) + reading_order(right)
    return sorted(boxes, key=lambda b: (-b[0][3], b[0][0]))


def _widest_gap(spans: list[tuple[float, float]]) -> tuple[float, float] | None:
    """(width, middle) of the widest gap between the spans' union on one axis, if any."""
    best: tuple[float, float] | None = None
    spans = sorted(spans)
    reach = spans[0][1]
    for start, end in spans[1:]:
        gap = start - reach
        if gap > 0.5 and (best is None or gap > best[0]):
            best = (gap, reach + gap / 2)
        reach = max(reach, end)
    return best


def _why(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _clean(line: str) -> str:
    line = _CID.sub("\ufffd", line).translate(_LIGATURES)
    line = _SPACES.sub(" ", _CONTROLS.sub("", line))
    return line.strip()


def assemble_pdf(pages: list[list[list[str]]]) -> Extracted:
    """Join pages of text boxes of lines into one text (the PDF rules of the docstring).

    Separate from the PDF library so the rules can be tested, and compared, on their own.
    """
    lines: list[_Line] = []
    vocabulary = _Vocabulary()
    box = 0
    for number, boxes in enumerate(pages):
        for lines_of_box in boxes:
            for raw in lines_of_box:
                text = _clean(raw)
                if text:
                    lines.append(_Line(number, box, text))
                    vocabulary.add(text)
            box += 1
    if not lines:
        raise ExtractError(
            "no text layer on any page: the PDF holds only images (a scan?); save a copy with "
            "recognised text (OCR)"
        )
    visible = sum(len(x.text) - x.text.count(" ") for x in lines)
    unknown = sum(x.text.count("\ufffd") for x in lines)
    if unknown > visible * _MAX_UNKNOWN:
        raise ExtractError(
            "the PDF's fonts do not say which characters most of its glyphs are (no Unicode map), "
            "so its text cannot be read"
        )

    out: list[_Line] = []
    for line in lines:
        if out:
            prev = out[-1]
            joined = _join(prev.text, line.text, prev.box == line.box, vocabulary)
            if joined is not None:
                prev.text, rest = joined
                if not rest:
                    continue
                line = _Line(line.page, line.box, rest, joined=True)
        out.append(line)

    parts: list[str] = []
    starts: list[int | None] = [None] * len(pages)
    at = 0
    for i, line in enumerate(out):
        if i:
            sep = "\n" if line.joined or line.box == out[i - 1].box else "\n\n"
            parts.append(sep)
            at += len(sep)
        if starts[line.page] is None:
            starts[line.page] = at
        parts.append(line.text)
        at += len(line.text)
    following = at
    filled: list[int] = []
    for start in reversed(starts):
        following = following if start is None else start
        filled.append(following)
    return Extracted("".join(parts), tuple(reversed(filled)))


def _join(prev: str, nxt: str, same_box: bool, vocabulary: _Vocabulary) -> tuple[str, str] | None:
    """``(prev + the start of nxt, the rest of nxt)`` when a word runs across the line end."""
    end = prev[-1]
    if end not in _DASHES and end != "\u00ad":
        return None
    m = _FIRST.match(nxt)
    if m is None or len(prev) < 2 or prev[-2].isspace():
        return None
    first, rest = m.group(1), m.group(2)
    fragment = _LETTERS_END.search(prev, 0, len(prev) - 1)
    second = _LETTERS_START.match(first)
    if end == "\u00ad":
        return (prev[:-1] + first, rest) if second else None
    if end in _HYPHENS and fragment is not None and second:
        a, b = fragment.group(), second.group()
        if b[0].isupper():
            return (prev + first, rest) if same_box else None
        before = prev[fragment.start() - 1] if fragment.start() else ""
        if _keep_hyphen(a, b, before, vocabulary):
            return prev + first, rest
        return prev[:-1] + first, rest
    if same_box and first[0].isalnum():
        return prev + first, rest
    return None


def _keep_hyphen(a: str, b: str, before: str, vocabulary: _Vocabulary) -> bool:
    joined = (a + b).lower() in vocabulary.words
    compound = f"{a}-{b}".lower() in vocabulary.compounds
    if joined != compound:
        return compound
    return a[0].isupper() or (before != "" and before in _DASHES)

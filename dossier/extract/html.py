"""The visible text of an HTML page.

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

"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from .common import ExtractError

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
        if data.strip() and any(state.tag in _SCRIPTS for state in self.stack):
            data = _raised_or_lowered(data, self.stack)
        self.tokens.append(_Token(data, 0, top.pre, top.main, top.article))


#: A superscript's and a subscript's digits and signs as the characters that write them
#: raised or lowered: ``10<sup>6</sup>`` reads 10⁶, never 106 (which a quote could then
#: claim the source said).
_SCRIPTS = {
    "sup": str.maketrans("0123456789+-=()\u2212", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾⁻"),
    "sub": str.maketrans("0123456789+-=()\u2212", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎₋"),
}
_SCRIPTED = frozenset("0123456789+-=()\u2212 ")


def _raised_or_lowered(data: str, stack: list[_State]) -> str:
    """Text inside the innermost ``sup`` or ``sub``, written raised or lowered when it is
    digits and signs alone (``1<sup>st</sup>`` stays 1st: there is no raised letter for
    every letter)."""
    if not set(data) <= _SCRIPTED:
        return data
    innermost = next(state.tag for state in reversed(stack) if state.tag in _SCRIPTS)
    return data.translate(_SCRIPTS[innermost])


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

"""The text of a PDF, in reading order.

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

import io
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from .common import Extracted, ExtractError

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


def extract_pdf(data: bytes) -> Extracted:
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

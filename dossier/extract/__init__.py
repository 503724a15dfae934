"""The text a reader sees in a source file: plain text, Markdown, HTML or PDF (issue 7).

``extract(kind, data)`` turns a source file's bytes into the text that quotes are checked
against (SPEC §3) and that the source page shows. It is pure: no printing, no files.

Plain text and Markdown (``txt``, ``md``)
    Strict UTF-8; a leading BOM is removed; nothing else changes (CRLF stays CRLF).
    A ``UnicodeDecodeError`` is raised through for the loader to report.

The rules for each kind are in its module: ``html`` (the standard library's parser) and
``pdf`` (pdfminer.six).
"""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING

from .common import KINDS, Extracted, ExtractError

if TYPE_CHECKING:
    from .html import decode_html, html_text
    from .pdf import TextBox, assemble_pdf, reading_order

#: The parsers are imported when first used (see ``__getattr__``): a run that reads only
#: text sources, or finds their text in the cache, never pays the 18 ms they take.
_LAZY = {
    "decode_html": "html",
    "html_text": "html",
    "TextBox": "pdf",
    "assemble_pdf": "pdf",
    "extract_pdf": "pdf",
    "reading_order": "pdf",
}

__all__ = [
    "KINDS",
    "ExtractError",
    "Extracted",
    "TextBox",
    "assemble_pdf",
    "decode_html",
    "extract",
    "html_text",
    "page_at",
    "page_of",
    "reading_order",
]


def extract(kind: str, data: bytes) -> Extracted:
    """The visible text of a source file's bytes; ``kind`` is its suffix without the dot."""
    if kind in ("txt", "md"):
        return Extracted(data.decode("utf-8").removeprefix("\ufeff"))
    if kind == "html":
        from .html import decode_html, html_text

        return Extracted(html_text(decode_html(data)))
    if kind == "pdf":
        from .pdf import extract_pdf

        return extract_pdf(data)
    raise ValueError(f"unknown source kind {kind!r}; expected one of {', '.join(sorted(KINDS))}")


def page_of(extracted: Extracted, offset: int) -> int | None:
    """The 1-based page on which ``offset`` of the text stands; None when there are no pages."""
    return page_at(extracted.pages, offset)


def page_at(pages: tuple[int, ...], offset: int) -> int | None:
    """``page_of`` for a text whose pages start at the offsets ``pages`` (a source's)."""
    if not pages:
        return None
    return max(bisect_right(pages, offset), 1)


def __getattr__(name: str) -> object:
    """The parsers' names, from their modules imported on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{module}", __name__), name)

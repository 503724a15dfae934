"""What every extractor returns, and how it fails."""

from __future__ import annotations

from dataclasses import dataclass

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

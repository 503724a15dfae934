"""Plain cards: a fact card in the narrow shape nearly every card is written in, read
straight into a ``Fact`` without composing a YAML tree.

The general reader (``yamlread`` and ``schema``) composes a card into a located tree and
converts it field by field: about 110 us a card, most of a check with no cache. Cards are
written in a small dialect of YAML: top-level ``key: value`` lines, lists in brackets or as
``- `` items, evidence as a list of small mappings, notes as ``|`` or ``>`` blocks, comment
lines. This module reads that dialect alone, and only a card that is plainly valid.
Anything outside the dialect or wrong in it (a tab, an escape, a value over two lines, an
unknown or repeated key, a bad date, an id with a capital) gives None, and the general
reader reads the card and reports what there is. So this module never reports a problem
and never decides one; a property test feeds both readers random cards and requires the
same fact from both wherever this one answers.
"""

from __future__ import annotations

import re

from . import schema
from .model import Evidence, Fact
from .problems import Pos, Problem
from .schema import STANCES, STATUSES, Ref
from .survey import ID_RE
from .yamlread import Scalar

# Characters outside the dialect anywhere in a card: tabs, carriage returns (but for CR LF),
# YAML's other line breaks (NEL, LS, PS), a byte-order mark, C0 and C1 controls, DEL,
# surrogates and noncharacters.
# (Named, not the complement of what is allowed: a class of the ranges allowed, up to
# U+10FFFF, took 5-7 ms to compile at each command's start.)
_OUTSIDE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
_ESCAPED = re.compile(r'\\(["\\])')  # (of a double-quoted value's escapes, \" and \\ alone)
_FLOW_TEXT = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_./-]| (?=[A-Za-z0-9_./-]))*\Z")
# What a plain value may not start with: YAML's indicators.
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_BLOCKS = frozenset(("|", "|-", ">", ">-"))

_TEXT, _STATUS, _STANCE, _ID, _DATE, _IDS, _TEXTS, _EVIDENCE = range(8)
_TOP = {
    "claim": _TEXT,
    "status": _STATUS,
    "date": _DATE,
    "section": _ID,
    "entities": _IDS,
    "tags": _TEXTS,
    "related": _IDS,
    "evidence": _EVIDENCE,
    "notes": _TEXT,
}
_IN_EVIDENCE = {"source": _ID, "quote": _TEXT, "stance": _STANCE, "note": _TEXT}
_DATE_TYPE = schema.FACT.field("date").type  # type: ignore[union-attr]


class _Outside(Exception):
    """The card is not in the dialect, or not plainly valid: the general reader reads it."""


def read(text: str, shown: str, fid: str) -> Fact | None:
    """The fact ``text`` (decoded, its BOM gone) holds, where it is a plain card with no
    problem; else None."""
    if "\r" in text:  # (lines ended CR LF, as on Windows: YAML reads them as LF)
        text = text.replace("\r\n", "\n")
    if _OUTSIDE.search(text):
        return None
    try:
        return _fact(text.split("\n"), shown, fid)
    except _Outside:
        return None


def _fact(lines: list[str], shown: str, fid: str) -> Fact:
    """The card's top-level mapping, each key at column 0 (a line anything else is not in
    the dialect: a value is never continued on the next line)."""
    got: dict[str, object] = {}
    i, n = 0, len(lines)
    while (i := _skip(lines, i)) < n:
        line = lines[i]
        i += 1
        if line[0] == " ":
            raise _Outside
        key, colon, rest = line.partition(":")
        kind = _TOP.get(key)
        if kind is None or not colon or key in got or rest[:1] not in ("", " "):
            raise _Outside
        value = rest.lstrip(" ")
        at = len(line) - len(value)
        value = value.rstrip(" ")
        if not value:  # a block list follows
            if kind == _EVIDENCE:
                got[key], i = _evidence(lines, i, shown)
            elif kind in (_IDS, _TEXTS):
                got[key], i = _list(lines, i, kind, shown)
            else:
                raise _Outside
        elif kind >= _IDS:
            if kind == _EVIDENCE or value[0] != "[":
                raise _Outside
            got[key] = _flow(value, kind, shown, i, at)
        elif value in _BLOCKS:
            said, after = _block(lines, i, value, 0)
            got[key] = _value(kind, said, False, shown, i, at)
            i = after
        else:
            said, plain = _inline(value)
            got[key] = _value(kind, said, plain, shown, i, at)
    if "claim" not in got or "status" not in got or "evidence" not in got:
        raise _Outside
    return Fact(
        id=fid,
        file=shown,
        claim=got["claim"],  # type: ignore[arg-type]
        status=got["status"],  # type: ignore[arg-type]
        date=got.get("date"),  # type: ignore[arg-type]
        section=got.get("section"),  # type: ignore[arg-type]
        entities=got.get("entities", ()),  # type: ignore[arg-type]
        tags=got.get("tags", ()),  # type: ignore[arg-type]
        related=got.get("related", ()),  # type: ignore[arg-type]
        evidence=got["evidence"],  # type: ignore[arg-type]
        notes=got.get("notes"),  # type: ignore[arg-type]
    )


def _skip(lines: list[str], i: int) -> int:
    """The index of the first line from ``i`` that is neither blank nor a comment."""
    n = len(lines)
    while i < n:
        line = lines[i]
        if line and line[0] != "#":
            if line[0] != " ":
                return i
            bare = line.lstrip(" ")
            if bare and bare[0] != "#":
                return i
        i += 1
    return i


def _value(kind: int, said: str, plain: bool, shown: str, row: int, col: int) -> object:
    """A scalar's value as ``kind`` has it (a list kind: as its items are), where it is
    plainly valid; ``row`` and ``col`` (0-based) are where it starts."""
    if (plain and said in _NULLS) or not said.strip():
        raise _Outside
    if kind in (_TEXT, _TEXTS):
        return said
    if kind in (_ID, _IDS):
        if not ID_RE.match(said):
            raise _Outside
        return Ref(said, Pos(shown, row, col + 1))
    if kind in (_STATUS, _STANCE):
        if said not in (STATUSES if kind == _STATUS else STANCES):
            raise _Outside
        return said
    problems: list[Problem] = []  # a date: read as the schema reads one, where it is valid
    value = schema.convert(Scalar(Pos(shown, row, col + 1), said, plain), _DATE_TYPE, problems, "date")
    if problems or value is None:
        raise _Outside
    return value


def _inline(value: str) -> tuple[str, bool]:
    """A value written on one line (from its first character to its last), as its text and
    whether it is plain (unquoted)."""
    first = value[0]
    if first == '"':
        said = value[1:-1]
        if len(value) < 2 or value[-1] != '"':
            raise _Outside
        if "\\" in said:
            if '"' in _ESCAPED.sub("", said) or "\\" in _ESCAPED.sub("", said):
                raise _Outside
            return _ESCAPED.sub(r"\1", said), False
        if '"' in said:
            raise _Outside
        return said, False
    if first == "'":
        said = value[1:-1]
        if len(value) < 2 or value[-1] != "'" or "'" in said.replace("''", ""):
            raise _Outside
        return said.replace("''", "'"), False
    if first in _INDICATORS or ": " in value or " #" in value or value[-1] == ":":
        raise _Outside
    return value, True


def _flow(value: str, kind: int, shown: str, row: int, at: int) -> tuple[object, ...]:
    """A list in brackets on one line (``value``, written from column ``at``) of plain
    words: ids, or tags of letters, digits and ``_./-`` with single spaces between."""
    if value[-1] != "]":
        raise _Outside
    inner = value[1:-1]
    if not inner.strip(" "):
        return ()
    parts = inner.split(",")
    if not parts[-1].strip(" "):
        parts.pop()  # (a comma after the last item)
    items = []
    col = at + 1
    for part in parts:
        said = part.strip(" ")
        if not said or (kind == _TEXTS and not _FLOW_TEXT.match(said)):
            raise _Outside
        items.append(_value(kind, said, True, shown, row, col + len(part) - len(part.lstrip(" "))))
        col += len(part) + 1
    return tuple(items)


def _dash(lines: list[str], i: int) -> tuple[int, str]:
    """Where the block list under a top-level key starts (its first line), and what each of
    its items' lines begins with: its indent, a dash and a space."""
    i = _skip(lines, i)
    if i == len(lines):
        raise _Outside
    line = lines[i]
    indent = len(line) - len(line.lstrip(" "))
    if line[indent : indent + 2] != "- ":
        raise _Outside
    return i, line[: indent + 2]


def _list(lines: list[str], i: int, kind: int, shown: str) -> tuple[tuple[object, ...], int]:
    """A block list of scalars under a top-level key, from line ``i``; and the line after."""
    i, dash = _dash(lines, i)
    items = []
    n = len(lines)
    while i < n and lines[i].startswith(dash):
        line = lines[i]
        i += 1
        value = line[len(dash) :].lstrip(" ")
        at = len(line) - len(value)
        value = value.rstrip(" ")
        if not value:
            raise _Outside
        said, plain = _inline(value)
        items.append(_value(kind, said, plain, shown, i, at))
        i = _skip(lines, i)
    return tuple(items), i


def _evidence(lines: list[str], i: int, shown: str) -> tuple[tuple[Evidence, ...], int]:
    """The evidence list from line ``i``: items of ``source``, ``quote`` and maybe
    ``stance`` and ``note``, each key of an item at one column; and the line after."""
    i, dash = _dash(lines, i)
    items = []
    n = len(lines)
    while i < n and lines[i].startswith(dash):
        line = lines[i]
        i += 1
        col = len(line) - len(line[len(dash) :].lstrip(" "))
        pad = " " * col
        got: dict[str, object] = {}
        quote_pos = None
        while True:
            key, colon, rest = line[col:].partition(":")
            kind = _IN_EVIDENCE.get(key)
            if kind is None or not colon or key in got or rest[:1] != " ":
                raise _Outside
            value = rest.lstrip(" ")
            at = len(line) - len(value)
            value = value.rstrip(" ")
            if not value:
                raise _Outside
            row = i
            if value in _BLOCKS:
                said, i = _block(lines, i, value, col)
                plain = False
            else:
                said, plain = _inline(value)
            got[key] = _value(kind, said, plain, shown, row, at)
            if kind == _TEXT and key == "quote":
                quote_pos = Pos(shown, row, at + 1)
            i = _skip(lines, i)
            if i == n:
                break
            line = lines[i]
            if line.startswith(dash) or not line.startswith(pad):
                break
            if line[col] == " ":
                raise _Outside
            i += 1
        if "source" not in got or quote_pos is None:
            raise _Outside
        items.append(
            Evidence(
                source=got["source"],  # type: ignore[arg-type]
                quote=got["quote"],  # type: ignore[arg-type]
                quote_pos=quote_pos,
                stance=got.get("stance", "supports"),  # type: ignore[arg-type]
                note=got.get("note"),  # type: ignore[arg-type]
            )
        )
    return tuple(items), i


def _block(lines: list[str], i: int, header: str, parent: int) -> tuple[str, int]:
    """A ``|`` or ``>`` block scalar (clipped, or stripped with ``-``) from line ``i``,
    under a key of the mapping at column ``parent``: its text, and the line after it. The
    block's first line sets its indent; a ``>`` block's lines all stand at it, and no line
    ends in a space."""
    n = len(lines)
    if i >= n:
        raise _Outside
    first = lines[i]
    indent = len(first) - len(first.lstrip(" "))
    if indent <= parent or indent == len(first):
        raise _Outside
    pad = " " * indent
    folded = header[0] == ">"
    body: list[str] = []
    last = i  # the last line with text
    while i < n:
        line = lines[i]
        if line.startswith(pad):
            said = line[indent:]
            # (A line more indented keeps its spaces in a | block; a > block would not fold
            # it. Trailing spaces are kept by either, and rarely meant.)
            if said[-1:] == " " or (folded and said[:1] == " "):
                raise _Outside
            body.append(said)
            if said:
                last = i
        elif not line.strip(" "):
            body.append("")
        else:
            break
        i += 1
    while body[-1] == "":
        body.pop()
    if not folded:
        out = "\n".join(body)
    else:
        out = body[0]
        blanks = 0
        for said in body[1:]:
            if not said:
                blanks += 1
                continue
            out += "\n" * blanks if blanks else " "
            out += said
            blanks = 0
    # Clipped, the text keeps its last line's break: none where the file ends on that line.
    return (out if header[-1] == "-" or last == n - 1 else out + "\n"), i

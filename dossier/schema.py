"""The content schema: one declarative definition per file kind, and the converter.

The same definitions drive validation here and (later) the JSON Schemas for editors, so
the two cannot drift. Conversion never raises: every mistake becomes a ``Problem`` at the
offending key or value, and conversion goes on to find the rest.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Union

from .problems import Pos, Problem, error, warning
from .survey import ID_RE
from .yamlread import Mapping, Node, Scalar, Sequence

_URL_RE = re.compile(r"https?://[^\s/?#\x00-\x1f\x7f]+[^\s\x00-\x1f\x7f]*\Z", re.IGNORECASE)
_PARTIAL_RE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?\Z")
# C0 controls other than tab and line breaks, DEL and C1 controls: invisible, and a NUL
# or an escape sequence has no business in a claim or a title.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_INT_RE = re.compile(r"[0-9]+\Z")
_SHA_RE = re.compile(r"[0-9a-f]{64}\Z")


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference to an id, with where it was written."""

    id: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class PartialDate:
    year: int
    month: int | None = None
    day: int | None = None

    @property
    def key(self) -> tuple[int, int, int]:
        """For sorting: a month or year alone sorts before its days."""
        return (self.year, self.month or 0, self.day or 0)

    def iso(self) -> str:
        out = f"{self.year:04d}"
        if self.month is not None:
            out += f"-{self.month:02d}"
        if self.day is not None:
            out += f"-{self.day:02d}"
        return out


# --- field types ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    """A non-empty string; ``markdown`` is "", "inline" or "block" (for the docs and schema)."""

    markdown: str = ""


@dataclass(frozen=True, slots=True)
class Choice:
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Date:
    """A date; ``partial`` also allows YYYY and YYYY-MM, ``datetime`` an ISO date-time."""

    partial: bool = False
    datetime: bool = False


@dataclass(frozen=True, slots=True)
class Url:
    pass


@dataclass(frozen=True, slots=True)
class Id:
    """An id: of this record (``kind`` empty) or a reference to a fact, source, etc."""

    kind: str = ""


@dataclass(frozen=True, slots=True)
class Sha256:
    pass


@dataclass(frozen=True, slots=True)
class Int:
    minimum: int = 0


@dataclass(frozen=True, slots=True)
class ListOf:
    item: FieldType
    min_items: int = 0


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: FieldType
    required: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class Record:
    name: str
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None


@dataclass(frozen=True, slots=True)
class MapOf:
    """A mapping from ids to records (entities.yaml)."""

    value: Record


FieldType = Union[Text, Choice, Date, Url, Id, Sha256, Int, ListOf, Record, MapOf]  # noqa: UP007


@dataclass(frozen=True, slots=True)
class Rec:
    """A converted record: values by field name, and where each one was written."""

    pos: Pos
    values: dict[str, object] = field(default_factory=dict)
    where: dict[str, Pos] = field(default_factory=dict)

    def get(self, name: str, default: object = None) -> object:
        return self.values.get(name, default)


# --- the definitions ---------------------------------------------------------------------

STATUSES = ("confirmed", "disputed", "unverified", "refuted")
STANCES = ("supports", "contradicts", "context")
ENTITY_KINDS = ("person", "organisation", "place", "thing")

EVIDENCE = Record(
    "evidence",
    (
        Field("source", Id("source"), True, "The id of the source the quote is taken from."),
        Field("quote", Text(), True, "The source's words, verbatim; editorial marks allowed."),
        Field("stance", Choice(STANCES), False, "How the quote bears on the claim."),
        Field("note", Text("block"), False, "Markdown: what this quote shows."),
    ),
)

FACT = Record(
    "fact card",
    (
        Field("claim", Text("inline"), True, "The claim, in one sentence of inline Markdown."),
        Field("status", Choice(STATUSES), True, "What the evidence establishes."),
        Field("date", Date(partial=True), False, "When it happened: YYYY, YYYY-MM or YYYY-MM-DD."),
        Field("section", Id("section"), False, "A section id from dossier.yaml."),
        Field("entities", ListOf(Id("entity")), False, "Entity ids from entities.yaml."),
        Field("tags", ListOf(Text()), False, "Free-form tags."),
        Field("related", ListOf(Id("fact")), False, "Ids of related fact cards."),
        Field("evidence", ListOf(EVIDENCE, min_items=1), True, "The quotes the claim rests on."),
        Field("notes", Text("block"), False, "Markdown: the analyst's reasoning."),
    ),
)

SOURCE = Record(
    "source metadata",
    (
        Field("title", Text(), True, "The source's title or headline."),
        Field("publisher", Text(), False, "Who published it."),
        Field("author", Text(), False, "Who wrote it."),
        Field("url", Url(), False, "Where the original is (http or https)."),
        Field("published", Date(datetime=True), False, "When it was published."),
        Field("retrieved", Date(), False, "When this copy was saved."),
        Field("language", Text(), False, "The language code, e.g. en."),
        Field("notes", Text("block"), False, "Markdown: notes on the source."),
        Field("sha256", Sha256(), False, "The SHA-256 of the source file's bytes, pinned."),
    ),
)

ENTITY = Record(
    "entity",
    (
        Field("name", Text(), True, "The entity's name."),
        Field("kind", Choice(ENTITY_KINDS), False, "What sort of entity it is."),
        Field("description", Text("block"), False, "Markdown: who or what it is."),
        Field("aliases", ListOf(Text()), False, "Other names it goes by."),
    ),
)

ENTITIES = MapOf(ENTITY)

SECTION = Record(
    "section",
    (
        Field("id", Id(), True, "The section's id, used by fact cards."),
        Field("title", Text(), True, "The section's heading."),
        Field("intro", Text("block"), False, "Markdown: the section's introduction."),
    ),
)

QUOTE_SETTINGS = Record(
    "quotes",
    (
        Field("max_omission", Int(0), False, "Most normalised characters an omission may skip."),
        Field("max_substitution", Int(1), False, "Most characters a [substitution] stands for."),
        Field("min_words", Int(1), False, "Fewest verbatim words a quote must hold."),
    ),
)

DOSSIER = Record(
    "dossier",
    (
        Field("title", Text(), True, "The dossier's title."),
        Field("subtitle", Text(), False, "A subtitle."),
        Field("summary", Text("block"), False, "Markdown: the briefing's summary."),
        Field("authors", ListOf(Text()), False, "Who wrote the dossier."),
        Field("updated", Date(), False, "When it was last updated."),
        Field("base_url", Url(), False, "The absolute URL the site is published at."),
        Field("sections", ListOf(SECTION), False, "The sections facts are grouped by, in order."),
        Field("quotes", QUOTE_SETTINGS, False, "Settings for quote verification."),
    ),
)


# --- conversion --------------------------------------------------------------------------


def convert(node: Node, kind: FieldType, problems: list[Problem], label: str) -> object | None:
    """Convert ``node`` to the Python value ``kind`` describes, or ``None`` after a problem."""
    if isinstance(kind, Record):
        return _record(node, kind, problems)
    if isinstance(kind, MapOf):
        if not isinstance(node, Mapping):
            problems.append(_wrong(node, label, "a mapping of ids to entries"))
            return None
        out: list[tuple[Ref, Rec]] = []
        for key, value in node.items:
            ref = _id(key, problems, f"{kind.value.name} id")
            rec = _record(value, kind.value, problems)
            if ref is not None and rec is not None:
                out.append((ref, rec))
        return tuple(out)
    if isinstance(kind, ListOf):
        if not isinstance(node, Sequence):
            problems.append(_wrong(node, label, "a list"))
            return None
        if len(node.items) < kind.min_items:
            problems.append(
                error(node.pos, "missing-field", f"'{label}' needs at least {kind.min_items} item(s)")
            )
            return None
        # Items with problems are left out; the problems are recorded, so the content fails
        # the check, but the good items are still checked for the rest of theirs.
        items = [convert(item, kind.item, problems, label) for item in node.items]
        return tuple(item for item in items if item is not None)
    if not isinstance(node, Scalar):
        problems.append(_wrong(node, label, "a single value"))
        return None
    if node.is_null or not node.text.strip():
        problems.append(error(node.pos, "invalid-value", f"'{label}' is empty; give it a value or remove it"))
        return None
    text = node.text
    if bad := _CONTROL_RE.search(text):
        problems.append(
            error(
                node.pos,
                "invalid-value",
                f"'{label}' contains the control character U+{ord(bad.group()):04X}; remove it",
            )
        )
        return None
    if isinstance(kind, Text):
        # "claim: the #1 priority" reads "the" (said, not dropped); "author: Chan  # editor"
        # is a comment (a # joined to a word rarely is one).
        if node.joined_hash:
            shown = text if len(text) <= 60 else "…" + text[-50:]
            problems.append(
                warning(
                    node.pos,
                    "comment-cuts-text",
                    f"'{label}' stops at ' #', where YAML starts a comment: it reads '{shown}'; if "
                    'the # belongs to it, put the whole value in "double quotes"',
                )
            )
        return text
    if isinstance(kind, Choice):
        if text not in kind.values:
            hint = _did_you_mean(text, kind.values)
            problems.append(
                error(
                    node.pos,
                    "invalid-value",
                    f"'{label}' must be one of {', '.join(kind.values)}; got '{text}'{hint}",
                )
            )
            return None
        return text
    if isinstance(kind, Id):
        return _id(node, problems, label)
    if isinstance(kind, Int):
        # (past 18 digits no setting is meant, and Python would refuse past 4,300)
        if not node.plain or not _INT_RE.match(text) or len(text) > 18 or int(text) < kind.minimum:
            problems.append(
                error(
                    node.pos,
                    "invalid-value",
                    f"'{label}' must be a whole number ≥ {kind.minimum} of at most 18 digits; "
                    f"got '{text if len(text) <= 40 else text[:40] + '…'}'",
                )
            )
            return None
        return int(text)
    if isinstance(kind, Url):
        if not _URL_RE.match(text):
            problems.append(
                error(
                    node.pos,
                    "invalid-value",
                    f"'{label}' must be an absolute http:// or https:// URL; got '{text}'",
                )
            )
            return None
        return text
    if isinstance(kind, Sha256):
        if not _SHA_RE.match(text):
            problems.append(
                error(
                    node.pos,
                    "invalid-value",
                    f"'{label}' must be 64 lowercase hex digits (sha256sum's output)",
                )
            )
            return None
        return text
    if isinstance(kind, Date):
        return _date(node, kind, problems, label)
    raise AssertionError(f"unhandled field type {kind!r}")  # pragma: no cover


def _record(node: Node, kind: Record, problems: list[Problem]) -> Rec | None:
    """A record of the fields that converted; the others are reported and left out."""
    if not isinstance(node, Mapping):
        problems.append(_wrong(node, kind.name, "a mapping of field: value"))
        return None
    rec = Rec(node.pos)
    allowed = [f.name for f in kind.fields]
    for key, value in node.items:
        spec = kind.field(key.text)
        if spec is None:
            hint = _did_you_mean(key.text, allowed)
            problems.append(
                error(
                    key.pos,
                    "unknown-field",
                    f"unknown field '{key.text}' in {kind.name}{hint} (allowed: {', '.join(allowed)})",
                )
            )
            continue
        if spec.name == "quote" and isinstance(value, Scalar) and value.comment_follows:
            problems.append(
                error(
                    value.pos,
                    "invalid-value",
                    "this unquoted quote is followed by ' #', which YAML reads as a comment and cuts "
                    'the quote short; put the whole quote in "double quotes"',
                )
            )
            continue
        converted = convert(value, spec.type, problems, spec.name)
        if converted is None:
            continue
        rec.values[spec.name] = converted
        rec.where[spec.name] = value.pos
    for spec in kind.fields:
        if spec.required and spec.name not in rec.values and node.get(spec.name) is None:
            problems.append(
                error(
                    node.pos,
                    "missing-field",
                    f"{kind.name} is missing the required field '{spec.name}'; add it",
                )
            )
    return rec


def _id(node: Node, problems: list[Problem], label: str) -> Ref | None:
    if not isinstance(node, Scalar) or not ID_RE.match(node.text):
        shown = node.text if isinstance(node, Scalar) else "a collection"
        problems.append(
            error(
                node.pos,
                "invalid-value",
                f"'{label}' must be an id (lowercase letters, digits and hyphens, starting with a "
                f"letter); got '{shown}'",
            )
        )
        return None
    return Ref(node.text, node.pos)


def _date(node: Scalar, kind: Date, problems: list[Problem], label: str) -> object | None:
    text = node.text
    m = _PARTIAL_RE.match(text)
    try:
        if m:
            year, month, day = (int(g) if g else None for g in m.groups())
            assert year is not None
            if year == 0:  # (as for a full date: dt.date has no year 0, nor has the calendar)
                raise ValueError("year 0 does not exist")
            if day is None and not kind.partial:
                raise ValueError("a full date YYYY-MM-DD is needed")
            if month is not None and not 1 <= month <= 12:
                raise ValueError(f"month {month} does not exist")
            if day is not None:
                assert month is not None
                exact = dt.date(year, month, day)
                return PartialDate(year, month, day) if kind.partial else exact
            return PartialDate(year, month, None)
        if kind.datetime and "T" in text:
            return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        raise ValueError("not a date")
    except ValueError as exc:
        forms = "YYYY, YYYY-MM or YYYY-MM-DD" if kind.partial else "YYYY-MM-DD"
        if kind.datetime:
            forms += " or an ISO date-time (2024-02-20T08:21:00+08:00)"
        problems.append(
            error(
                node.pos,
                "invalid-value",
                f"'{label}' is not a valid date ({exc}); write {forms}; got '{text}'",
            )
        )
        return None


def _wrong(node: Node, label: str, expected: str) -> Problem:
    got = {Scalar: "a single value", Sequence: "a list", Mapping: "a mapping"}[type(node)]
    return error(node.pos, "invalid-value", f"'{label}' must be {expected}, not {got}")


def _did_you_mean(word: str, options: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# --- JSON Schema, generated from the same definitions -------------------------------------

SCHEMA_FILES: dict[str, Record | MapOf] = {
    "fact.schema.json": FACT,
    "source.schema.json": SOURCE,
    "entities.schema.json": ENTITIES,
    "dossier.schema.json": DOSSIER,
}
_ID_PATTERN = "^[a-z][a-z0-9-]*$"


def json_schema(kind: FieldType, title: str | None = None) -> dict[str, object]:
    """The JSON Schema (draft 2020-12) an editor can check a file of this kind with."""
    out = _js(kind)
    doc: dict[str, object] = {"$schema": "https://json-schema.org/draft/2020-12/schema"}
    if title:
        doc["title"] = title
    doc.update(out)
    return doc


def _js(kind: FieldType, description: str = "") -> dict[str, object]:
    out: dict[str, object]
    if isinstance(kind, Record):
        out = {
            "type": "object",
            "properties": {f.name: _js(f.type, f.description) for f in kind.fields},
            "required": [f.name for f in kind.fields if f.required],
            "additionalProperties": False,
        }
    elif isinstance(kind, MapOf):
        out = {
            "type": "object",
            "propertyNames": {"pattern": _ID_PATTERN},
            "additionalProperties": _js(kind.value),
        }
    elif isinstance(kind, ListOf):
        out = {"type": "array", "items": _js(kind.item)}
        if kind.min_items:
            out["minItems"] = kind.min_items
    elif isinstance(kind, Choice):
        out = {"enum": list(kind.values)}
    elif isinstance(kind, Id):
        out = {"type": "string", "pattern": _ID_PATTERN}
    elif isinstance(kind, Int):
        out = {"type": "integer", "minimum": kind.minimum}
    elif isinstance(kind, Url):
        out = {"type": "string", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^\\s/?#]+\\S*$"}
    elif isinstance(kind, Sha256):
        out = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
    elif isinstance(kind, Date):
        day = (
            r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])"
            r"|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|02-(?:0[1-9]|1\d|2\d))"
        )
        year = r"(?!0000)\d{4}"  # (there is no year 0)
        pattern = rf"^{year}-{day}$"
        if kind.partial:
            pattern = rf"^{year}(?:-(?:0[1-9]|1[0-2])|-{day})?$"
        options: list[dict[str, object]] = [{"type": "string", "pattern": pattern}]
        if kind.partial:  # a bare year is an integer to a YAML 1.2 editor
            options.append({"type": "integer", "minimum": 1, "maximum": 9999})
        if kind.datetime:
            options.append({"type": "string", "format": "date-time"})
        out = options[0] if len(options) == 1 else {"anyOf": options}
    else:  # Text
        out = {"type": ["string", "number", "boolean"], "pattern": "\\S"}
    if description:
        out = {"description": description, **out}
    return out


def schema_documents() -> dict[str, bytes]:
    """Every schema file, by name, as the bytes ``dossier schema --out`` writes."""
    docs = {}
    for name, kind in SCHEMA_FILES.items():
        title = f"dossier {kind.value.name if isinstance(kind, MapOf) else kind.name}"
        docs[name] = (json.dumps(json_schema(kind, title), indent=2, ensure_ascii=False) + "\n").encode()
    return docs

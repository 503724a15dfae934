"""Scaffolds: new fact cards and sources, as files to write (``publish.create`` writes them)."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from pathlib import Path

from .extract import KINDS, ExtractError, extract
from .problems import Pos, Problem, error
from .survey import ID_RE

FACT_TEMPLATE = """\
# yaml-language-server: $schema={schema}
claim: # the claim, in one sentence of your own words
status: unverified  # confirmed | disputed | unverified | refuted
# date: 2024-02-18  # when it happened: YYYY, YYYY-MM or YYYY-MM-DD
# section: section-id
# entities: []
# tags: []
# related: []
evidence:
  - source: {source}
    quote: ""  # the source's words, exactly; ... for an omission, [x] for a changed letter
    # stance: supports  # supports | contradicts | context
    # note: what this quote shows
# notes: |
#   Your reasoning.
"""


def modeline_path(content_dir: Path, folder: Path, name: str) -> str:
    """The schema's path relative to a file in ``folder`` (schemas/ sits beside CONTENT_DIR)."""
    schemas = content_dir.resolve().parent / "schemas" / name
    return Path(os.path.relpath(schemas, folder.resolve())).as_posix()


def _bad_id(kind: str, new_id: str, where: str) -> Problem | None:
    if ID_RE.match(new_id):
        return None
    return error(
        Pos(where),
        "invalid-value",
        f"'{new_id}' is not a valid {kind} id: use lowercase letters, digits and hyphens, "
        "starting with a letter",
    )


#: What a new card's first quote names when no source is given: a placeholder to fill in.
PLACEHOLDER_SOURCE = "source-id"


def new_fact(
    content_dir: Path, fact_id: str, source: str | None = None
) -> tuple[dict[Path, bytes], list[Problem]]:
    """The card for a new fact; ``source``, when given, must be a source the content holds
    (a card naming an unknown one would fail the check the moment it is filled in)."""
    facts = content_dir / "facts"
    path = facts / f"{fact_id}.yaml"
    bad_source = source is not None and _bad_id("source", source, str(path))
    if problem := _bad_id("fact", fact_id, str(path)) or bad_source:
        return {}, [problem]  # (a source id is written into the card as it is)
    if source is not None and source not in (known := source_ids(content_dir / "sources")):
        close = difflib.get_close_matches(source, sorted(known), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "add it first with 'dossier new source'"
        return {}, [error(Pos(str(path)), "unknown-source", f"no source has the id '{source}'; {hint}")]
    existing = sorted(facts.rglob(f"{fact_id}.yaml")) + sorted(facts.rglob(f"{fact_id}.yml"))
    if existing:
        return {}, [
            error(
                Pos(str(existing[0])), "duplicate-id", f"a fact card with the id '{fact_id}' exists already"
            )
        ]
    schema = modeline_path(content_dir, facts, "fact.schema.json")
    text = FACT_TEMPLATE.format(schema=schema, source=source or PLACEHOLDER_SOURCE)
    return {path: text.encode()}, []


def source_ids(folder: Path) -> set[str]:
    """The ids of the sources in ``folder`` (sources/), as the check finds them: the names
    of its text and metadata files."""
    try:
        names = os.listdir(folder)
    except OSError:
        return set()
    return {
        stem
        for stem, dot, ext in (name.rpartition(".") for name in names)
        if dot and ID_RE.match(stem) and (ext.lower() in KINDS or ext.lower() == "yaml")
    }


def _yaml_string(text: str) -> str:
    """A YAML double-quoted scalar: JSON's escapes are YAML's (a control character too)."""
    return json.dumps(text, ensure_ascii=False)


def new_source(
    content_dir: Path,
    source_id: str,
    data: bytes,
    *,
    kind: str = "txt",
    url: str | None = None,
    title: str | None = None,
) -> tuple[dict[Path, bytes], list[Problem]]:
    """The files for a new source: its bytes as sources/ID.KIND and its metadata stub."""
    folder = content_dir / "sources"
    text_path = folder / f"{source_id}.{kind}"
    meta_path = folder / f"{source_id}.yaml"
    if kind not in KINDS:
        kinds = ", ".join(f".{k}" for k in sorted(KINDS))
        return {}, [error(Pos(str(text_path)), "invalid-value", f"a source must be {kinds}; got .{kind}")]
    if problem := _bad_id("source", source_id, str(text_path)):
        return {}, [problem]
    clash = [p for p in (meta_path, *(folder / f"{source_id}.{k}" for k in sorted(KINDS))) if p.exists()]
    if clash:
        return {}, [
            error(Pos(str(clash[0])), "duplicate-id", f"a source with the id '{source_id}' exists already")
        ]
    try:
        decoded = extract(kind, data).text
    except UnicodeDecodeError as exc:
        return {}, [
            error(
                Pos(str(text_path)),
                "source-unreadable",
                f"the file is not UTF-8 (byte offset {exc.start}); convert it first",
            )
        ]
    except ExtractError as exc:
        return {}, [error(Pos(str(text_path)), "source-unreadable", f"cannot read its text: {exc}")]
    if title is None:
        # (control characters are no part of a title, and the schema refuses them)
        shown = ("".join(c if c.isprintable() else " " for c in ln).strip() for ln in decoded.splitlines())
        title = next((line for line in shown if line), source_id)[:200]
    lines = [
        f"# yaml-language-server: $schema={modeline_path(content_dir, folder, 'source.schema.json')}",
        f"title: {_yaml_string(title)}",
    ]
    if url:
        lines.append(f"url: {_yaml_string(url)}")
    lines += [
        "# publisher: ",
        "# author: ",
        "# published: 2024-02-20",
        "# retrieved: 2024-02-21",
        "# language: en",
        f"sha256: {hashlib.sha256(data).hexdigest()}",
    ]
    return {text_path: data, meta_path: ("\n".join(lines) + "\n").encode()}, []

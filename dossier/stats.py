"""Figures about a checked dossier, for `dossier stats`."""

from __future__ import annotations

from collections import Counter

from .check import CheckResult
from .schema import STATUSES


def stats(result: CheckResult) -> dict[str, object]:
    content = result.content
    if content is None:
        return {}
    facts = content.facts.values()
    by_status = Counter(f.status for f in facts)
    quotes_per_source = Counter(ev.source.id for f in facts for ev in f.evidence)
    return {
        "facts": len(content.facts),
        "quotes": result.quote_count,
        "sources": len(content.sources),
        "entities": len(content.entities),
        "facts_by_status": {s: by_status.get(s, 0) for s in STATUSES},
        "quotes_per_source": {sid: quotes_per_source.get(sid, 0) for sid in sorted(content.sources)},
        "uncited_sources": sorted(sid for sid in content.sources if not quotes_per_source.get(sid)),
        "single_source_facts": sorted(f.id for f in facts if len({ev.source.id for ev in f.evidence}) == 1),
        "disputed_facts": sorted(
            f.id
            for f in facts
            if f.status == "disputed" or any(ev.stance == "contradicts" for ev in f.evidence)
        ),
    }


def as_text(figures: dict[str, object]) -> list[str]:
    counted = [("facts", "fact"), ("quotes", "quote"), ("sources", "source"), ("entities", "entity")]
    lines = [
        ", ".join(_count(figures[key], one, key) for key, one in counted),
        "",
        "facts by status:",
    ]
    by_status = figures["facts_by_status"]
    assert isinstance(by_status, dict)
    lines += [f"  {status:<11} {n}" for status, n in by_status.items()]
    lines += ["", "quotes per source:"]
    per_source = figures["quotes_per_source"]
    assert isinstance(per_source, dict)
    lines += [f"  {sid:<30} {n}" for sid, n in per_source.items()]
    for key, title in [
        ("uncited_sources", "sources no card cites"),
        ("single_source_facts", "facts resting on a single source"),
        ("disputed_facts", "disputed or contradicted facts"),
    ]:
        items = figures[key]
        assert isinstance(items, list)
        lines += ["", f"{title} ({len(items)}):"]
        lines += [f"  {item}" for item in items] or ["  (none)"]
    return lines


def _count(n: object, one: str, many: str) -> str:
    """``1 fact``, ``2 facts``."""
    return f"{n} {one if n == 1 else many}"

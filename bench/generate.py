"""Generate a synthetic dossier of N cards, and the equivalent Hugo site, for benchmarks.

Each card has three quotes of 8–30 words taken verbatim from its sources: some span line
breaks, some use straight quotes and doubled spaces where the source has curly quotes and
single spaces, some leave words out with an omission. There are N/10 sources of ~5 KB.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import textwrap
import time
from pathlib import Path

WORDS = (  # noqa: SIM905
    "the minister said that officials would review agency reports on trade talks before "
    "delegations met in the capital where analysts expect sanctions relief while critics "
    "warn about weapons transfers and cooperation across energy fisheries technology sports "
    "sectors during visits last year according to state media which cited unnamed sources "
    "familiar with plans for bilateral exchanges including military political economic "
    "cultural programmes envoy leader president government council resolution ban supply"
).split()
NAMES = ["Anna Petrova", "Kim Ji-ho", "Omar Haddad", "Lena Weiss", "Ivan Sokolov", "Mei Lin"]


def sentence(rng: random.Random) -> str:
    n = rng.randint(8, 22)
    words = [rng.choice(WORDS) for _ in range(n)]
    if rng.random() < 0.3:
        i = rng.randrange(n)
        words[i] = f"{rng.choice(['Kim’s', 'Putin’s', 'the agency’s'])}"
    if rng.random() < 0.2:
        words.insert(rng.randrange(n), f"“{rng.choice(WORDS)} {rng.choice(WORDS)}”")
    if rng.random() < 0.3:
        words.insert(rng.randrange(n), str(rng.randint(2, 2024)))
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


def source_text(rng: random.Random, size: int = 5000) -> str:
    paragraphs = []
    length = 0
    while length < size:
        para = " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))
        wrapped = textwrap.fill(para, 78)
        if rng.random() < 0.3:
            wrapped = wrapped.replace("\n", "\u00a0\n", 1)
        paragraphs.append(wrapped)
        length += len(wrapped)
    return "\n\n".join(paragraphs) + "\n"


def pick_quote(rng: random.Random, text: str) -> str:
    words = text.split()
    for _ in range(100):
        n = rng.randint(8, 30)
        start = rng.randrange(0, len(words) - n)
        piece = words[start : start + n]
        if not piece[0][0].isalnum() or not piece[-1][-1].isalnum():
            continue
        quote = " ".join(piece)
        roll = rng.random()
        if roll < 0.2:
            quote = quote.replace("’", "'").replace("“", '"').replace("”", '"')
        elif roll < 0.3:
            quote = quote.replace(" ", "  ", 2)
        elif roll < 0.45 and n >= 12:
            quote = " ".join(piece[:4]) + " ... " + " ".join(piece[-5:])
        return quote
    raise RuntimeError("no quote found")


def yaml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def generate(n: int, root: Path, seed: int = 7, trash: Path | None = None) -> None:
    """The dossier of ``n`` cards and its Hugo site in ``root``; what was there before is
    removed, or with ``trash``, moved into that folder (for the caller to remove once it
    has timed what it wanted: see ``run.py``)."""
    rng = random.Random(seed)
    if root.exists():
        if trash is None:
            shutil.rmtree(root)
        else:
            trash.mkdir(parents=True, exist_ok=True)
            root.rename(trash / f"{root.name}-{time.time_ns()}")
    content = root / "content"
    hugo = root / "hugo"
    n_sources = max(1, n // 10)
    sections = [f"part-{i}" for i in range(10)]
    entities = [f"person-{i}" for i in range(50)]
    (content / "sources").mkdir(parents=True)
    (content / "facts").mkdir(parents=True)
    (hugo / "content/cards").mkdir(parents=True)
    (hugo / "content/sources").mkdir(parents=True)
    (hugo / "layouts/_default").mkdir(parents=True)
    (content / "dossier.yaml").write_text(
        "title: Synthetic dossier\nsummary: Generated for benchmarks.\nsections:\n"
        + "".join(f"  - id: {s}\n    title: Part {s[-1]}\n" for s in sections)
    )
    (content / "entities.yaml").write_text(
        "".join(f"{e}:\n  name: {rng.choice(NAMES)} {i}\n  kind: person\n" for i, e in enumerate(entities))
    )
    texts = []
    for i in range(n_sources):
        text = source_text(rng)
        texts.append(text)
        sid = f"source-{i:05d}"
        data = text.encode()
        (content / "sources" / f"{sid}.txt").write_bytes(data)
        (content / "sources" / f"{sid}.yaml").write_text(
            f"title: Source {i}\npublisher: Agency {i % 7}\nurl: https://example.org/{sid}\n"
            f"sha256: {hashlib.sha256(data).hexdigest()}\n"
        )
        body = "\n\n".join(p.replace("\n", " ") for p in text.split("\n\n"))
        (hugo / "content/sources" / f"{sid}.md").write_text(f'---\ntitle: "Source {i}"\n---\n\n{body}\n')
    for i in range(n):
        fid = f"fact-{i:05d}"
        evidence = []
        quotes = []
        for _ in range(3):
            s = rng.randrange(n_sources)
            q = pick_quote(rng, texts[s])
            quotes.append(q)
            evidence.append(f"  - source: source-{s:05d}\n    quote: {yaml_str(q)}\n")
        claim = f"Claim number {i}: {' '.join(rng.choice(WORDS) for _ in range(8))}."
        related = f"related: [fact-{(i + 1) % n:05d}]\n" if n > 1 else ""
        (content / "facts" / f"{fid}.yaml").write_text(
            f"claim: {yaml_str(claim)}\nstatus: {rng.choice(['confirmed', 'unverified', 'disputed'])}\n"
            f"date: 2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}\nsection: {rng.choice(sections)}\n"
            f"entities: [{rng.choice(entities)}]\n{related}evidence:\n" + "".join(evidence)
        )
        blockquotes = "\n\n".join(f"> {q}" for q in quotes)
        (hugo / "content/cards" / f"{fid}.md").write_text(
            f'---\ntitle: "{fid}"\n---\n\n{claim}\n\n{blockquotes}\n'
        )
    (hugo / "hugo.toml").write_text(
        'baseURL = "https://example.org/"\ntitle = "Synthetic"\ndisableKinds = ["taxonomy", "term", "RSS"]\n'
    )
    (hugo / "layouts/_default/baseof.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>'
        '<body>{{ block "main" . }}{{ end }}</body></html>\n'
    )
    (hugo / "layouts/_default/single.html").write_text(
        '{{ define "main" }}<h1>{{ .Title }}</h1>{{ .Content }}{{ end }}\n'
    )
    (hugo / "layouts/_default/list.html").write_text(
        '{{ define "main" }}<h1>{{ .Title }}</h1><ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">'
        "{{ .Title }}</a></li>{{ end }}</ul>{{ end }}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", type=int)
    parser.add_argument("root", type=Path)
    args = parser.parse_args()
    generate(args.n, args.root)


if __name__ == "__main__":
    main()

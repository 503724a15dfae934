"""Readers: everything under CONTENT_DIR into the model, with every problem gathered.

Nothing outside CONTENT_DIR is read: files are found by listing its folders, and a file
whose real path (after symlinks) leaves CONTENT_DIR is refused before it is opened.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import hashlib
import marshal
import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar, cast

from . import parallel, plaincard, schema
from . import survey as surveys
from .cache import Cache, card_bytes, card_of_bytes
from .extract import ExtractError, extract
from .model import Content, Dossier, Entity, Evidence, Fact, Section, Source
from .problems import Pos, Problem, error
from .quotes import Settings
from .schema import PartialDate, Rec, Ref
from .survey import ID_RE, Shown
from .yamlread import Node, decode, parse

#: How files are opened: O_NONBLOCK, so that a FIFO planted in the content cannot hang the
#: check; with no link followed where this system can say so (see ``_Reader._open``).
_READ = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)

MAX_CARD_BYTES = 1 << 20  # 1 MiB: a card is a page of YAML, not a data dump
MAX_SOURCE_BYTES = 32 << 20  # 32 MiB of text
TEXT_SUFFIXES = (".txt", ".md", ".html", ".pdf")

T = TypeVar("T")


def _read_upto(fd: int, n: int) -> bytes:
    """The next ``n`` bytes of ``fd``, or fewer at its end. Asked for by the size ``fstat``
    gave, not the limit: a buffer of the limit (1 MiB a card, 32 MiB a source) would be
    made for every file (10,000 cards: 0.5-0.6 s read, against 0.1)."""
    chunks: list[bytes] = []
    got = 0
    while got < n:
        chunk = os.read(fd, n - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class _Reader(Shown):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.real_root = root.resolve()
        self.dirs_inside: dict[str, bool] = {}
        self.problems: list[Problem] = []

    def dir_inside(self, folder: str) -> bool:
        """Does ``folder`` (or a link to one) lead inside the content folder?"""
        ok = self.dirs_inside.get(folder)
        if ok is None:
            ok = self.dirs_inside[folder] = Path(folder).resolve(strict=True).is_relative_to(self.real_root)
        return ok

    def _open(self, path: Path | str) -> tuple[int, bool] | None:
        """``path`` opened to be read, and whether it is the file itself (not a link to
        it); None where it leads outside the content folder. A file in a folder inside is
        opened without following a link, so a plain file (all but a few) costs no
        ``lstat`` of its own; a link, refused so, is resolved and opened where it leads
        inside (10,000 cards read: 0.10 s, was 0.20 with the ``lstat``, a ``Path`` for each
        folder and a read to see the end)."""
        if _NOFOLLOW and self.dir_inside(os.path.dirname(path)):
            with contextlib.suppress(OSError):  # (a link, or an error: asked again as a link's)
                return os.open(path, _READ | _NOFOLLOW), True
        if os.path.islink(path):
            # Opened by where it leads, not through the link: a link swapped meanwhile is
            # not followed (the open of the real path follows none at its end).
            real = Path(path).resolve(strict=True)
            if not real.is_relative_to(self.real_root):
                return None
            return os.open(real, _READ | _NOFOLLOW), False
        if not self.dir_inside(os.path.dirname(path)):
            return None
        return os.open(path, _READ | _NOFOLLOW), True

    def read_bytes(
        self,
        path: Path | str,
        limit: int,
        code: str = "source-unreadable",
        too_large: str = "file-too-large",
        shown: str | None = None,
        stat_of: list[os.stat_result] | None = None,
    ) -> bytes | None:
        """A file's bytes, or None after a problem; nothing outside the content folder is read.
        ``shown``: the path as problems show it, where the caller has it. ``stat_of`` gets
        the file's stat, taken before its bytes are read, where ``path`` is the file itself
        (not a link: then it gets nothing).

        No ``stat`` of a plain file but its ``fstat``: links and folders are resolved only
        where they are.
        """
        if shown is None:
            shown = self.display(path)
        try:
            opened = self._open(path)
            if opened is None:
                self.problems.append(
                    error(
                        Pos(shown),
                        "unsafe-path",
                        "this file is a link that leads outside the content folder; it was not read",
                    )
                )
                return None
        except (OSError, RuntimeError) as exc:
            if isinstance(exc, IsADirectoryError) or os.path.isdir(path):
                self.problems.append(error(Pos(shown), code, "expected a file, found a folder"))
            else:
                self.problems.append(error(Pos(shown), code, f"cannot read the file: {_reason(exc)}"))
            return None
        fd, itself = opened
        try:
            st = os.fstat(fd)
            if stat_of is not None and itself:
                stat_of.append(st)
            if not stat.S_ISREG(st.st_mode):
                self.problems.append(error(Pos(shown), code, "expected a file, found a folder or device"))
                return None
            if st.st_size > limit:
                self.problems.append(
                    error(
                        Pos(shown),
                        too_large,
                        f"the file has {st.st_size:,} bytes; the limit is {limit:,}",
                    )
                )
                return None
            # As many bytes as fstat gave, in one read, is all there is: what a file held
            # when read. Fewer (a short read) or more (it grew since): read on, to the limit.
            data = os.read(fd, st.st_size + 1)
            if len(data) < st.st_size:  # a short read: on, to what fstat gave
                data += _read_upto(fd, st.st_size + 1 - len(data))
            if len(data) > st.st_size:
                data += _read_upto(fd, limit + 1 - len(data))
        except OSError as exc:
            self.problems.append(error(Pos(shown), code, f"cannot read the file: {_reason(exc)}"))
            return None
        finally:
            os.close(fd)
        if len(data) > limit:
            self.problems.append(error(Pos(shown), too_large, f"the file is larger than {limit:,} bytes"))
            return None
        return data

    def read_yaml(self, path: Path, *, required: bool = True, cache: Cache | None = None) -> Node | None:
        """A YAML file's tree; with ``cache``, the tree composed before from the same bytes
        (and its problems), where there is one."""
        data = self.read_bytes(path, MAX_CARD_BYTES, code="yaml-unreadable")
        if data is None:
            return None
        shown = self.display(path)
        if cache is None:
            return self.yaml_of(data, shown, required=required)
        key = (shown, "tree " + hashlib.sha256(data).hexdigest())
        hit = cache.tree(key)
        if hit is None:
            hit = _composed(data, shown)
            cache.put_tree(key, *hit)
        return self._told(hit, shown, required)

    def yaml_of(self, data: bytes, shown: str, *, required: bool = True) -> Node | None:
        return self._told(_composed(data, shown), shown, required)

    def _told(self, composed: tuple[Node | None, list[Problem]], shown: str, required: bool) -> Node | None:
        """A composed tree, its problems noted (and an empty file's, where it must not be)."""
        node, problems = composed
        self.problems.extend(problems)
        if node is None and not problems and required:
            self.problems.append(error(Pos(shown), "missing-field", "the file is empty"))
        return node

    def record_of(self, data: bytes, shown: str, kind: schema.Record) -> Rec | None:
        node = self.yaml_of(data, shown)
        if node is None:
            return None
        return cast(Rec | None, schema.convert(node, kind, self.problems, kind.name))

    def record(self, path: Path, kind: schema.Record, cache: Cache | None = None) -> Rec | None:
        node = self.read_yaml(path, cache=cache)
        if node is None:
            return None
        return cast(Rec | None, schema.convert(node, kind, self.problems, kind.name))


def _composed(data: bytes, shown: str) -> tuple[Node | None, list[Problem]]:
    """A YAML file's bytes decoded and composed into a tree, and the problems met."""
    text, problems = decode(data, shown)
    if text is None:
        return None, problems
    node, more = parse(text, shown)
    return node, problems + more


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc)


def _s(rec: Rec, name: str) -> str | None:
    return cast(str | None, rec.get(name))


def _t(rec: Rec, name: str) -> tuple[str, ...]:
    return cast(tuple[str, ...], rec.get(name, ()))


def read_content(
    root: Path,
    cache: Cache | None = None,
    *,
    only: set[str] | None = None,
    extra_sources: Iterable[str] = (),
    listed: Iterable[str] | None = None,
) -> tuple[Content | None, list[Problem]]:
    """Read and validate CONTENT_DIR; the content is ``None`` when it cannot be used at all.

    ``cache`` keeps parsed cards and the text extracted from HTML and PDF sources between
    runs, keyed by the files' bytes. ``only`` (cards' paths as problems show them) reads
    just those cards and the sources they cite (and ``extra_sources``, by id), for a recheck of a
    few edited cards: the content then holds only those, and ids are still checked against
    every file. ``listed``, with ``only``: every card's path as shown, as a clean survey
    found them just now (each id valid and its own), so that facts/ is not listed again.
    """
    r = _Reader(root)
    dossier = _read_dossier(r, root / "dossier.yaml", cache)
    entities = _read_entities(r, root / "entities.yaml", cache)
    if only is None:
        sources, source_ids = _read_sources(r, root / "sources", cache)
        facts, fact_ids = _read_facts(r, root / "facts", cache)
    else:
        facts, fact_ids = _read_facts(r, root / "facts", cache, only, listed)
        cited = {ev.source.id for f in facts.values() for ev in f.evidence}.union(extra_sources)
        sources, source_ids = _read_sources(r, root / "sources", cache, cited)
    return _content(r, root, dossier, entities, (sources, source_ids), (facts, fact_ids))


def read_content_prepared(
    root: Path, prepare: Callable[[str], T], cache: Cache | None = None
) -> tuple[Content | None, list[Problem], dict[str, T]]:
    """``read_content(root, cache)`` (every file), and ``prepare(text)`` of each source
    read, by source id: all but the cards (dossier.yaml, entities.yaml, the sources) are
    read, and the sources prepared, by a forked child while this process reads the cards
    (made here where no child can be), to the same result. What the child adds to a cache
    (the two files' trees, each source's metadata, the texts it extracted) is added here as
    reading them here would have added it."""

    def rest_read() -> tuple[_Rest, list[Problem], dict[str, T], _Added | None]:
        rs = _Reader(root)
        mine = None if cache is None else Cache(extracted=dict(cache.extracted))
        dossier = _read_dossier(rs, root / "dossier.yaml", mine)
        entities = _read_entities(rs, root / "entities.yaml", mine)
        sources = _read_sources(rs, root / "sources", mine)
        prepared = {sid: prepare(s.text) for sid, s in sources[0].items()}
        added = None if mine is None else _added(mine, cache)
        return (dossier, entities, sources), rs.problems, prepared, added

    r = _Reader(root)
    with parallel.beside(rest_read) as rest_got:
        facts = _read_facts(r, root / "facts", cache)
        (dossier, entities, sources), problems, prepared, added = rest_got()
    r.problems.extend(problems)
    if cache is not None and added is not None:
        _add(cache, added)
    content, problems = _content(r, root, dossier, entities, sources, facts)
    return content, problems, prepared


#: What a dossier holds but its cards: dossier.yaml, entities.yaml, the sources and the ids
#: of all there are.
_Rest = tuple[Dossier | None, dict[str, Entity], tuple[dict[str, Source], set[str]]]


#: What reading all but the cards added to a cache of their own: the cards' part's entries
#: (the trees of dossier.yaml and entities.yaml, the sources' metadata), the texts newly
#: extracted, and the extracted texts used.
_Added = tuple[list[tuple[tuple[str, str], bytes]], dict[str, tuple[str, tuple[int, ...]]], set[str]]


def _added(mine: Cache, base: Cache | None) -> _Added:
    known = base.extracted if base is not None else {}
    new = {d: text for d, text in mine.extracted.items() if d not in known}
    return list(mine.cards.items()), new, mine.used_extracted


def _add(cache: Cache, added: _Added) -> None:
    metas, extracted, used = added
    for key, stored in metas:
        if cache.cards.get(key) == stored:
            cache.used_cards.add(key)  # (as a hit reading them here marks it)
        else:
            cache.put_card_bytes(key, stored)
    if extracted:
        cache.extracted.update(extracted)
        cache.changed = cache.costly = True
    cache.used_extracted |= used


def _content(
    r: _Reader,
    root: Path,
    dossier: Dossier | None,
    entities: dict[str, Entity],
    sources: tuple[dict[str, Source], set[str]],
    facts: tuple[dict[str, Fact], set[str]],
) -> tuple[Content | None, list[Problem]]:
    """The content read (None without a dossier.yaml to use), its references checked."""
    if dossier is None:
        return None, r.problems
    content = Content(root, dossier, sources[0], entities, facts[0])
    r.problems.extend(check_references(content, sources[1], facts[1]))
    return content, r.problems


def _read_dossier(r: _Reader, path: Path, cache: Cache | None) -> Dossier | None:
    if not path.exists() and not path.is_symlink():
        r.problems.append(
            error(
                Pos(r.display(path)), "missing-file", "every content folder needs a dossier.yaml with a title"
            )
        )
        return None
    rec = r.record(path, schema.DOSSIER, cache)
    if rec is None:
        return None
    sections = []
    for s in cast(tuple[Rec, ...], rec.get("sections", ())):
        ref = cast(Ref | None, s.get("id"))
        if ref is not None:
            sections.append(Section(ref.id, cast(str, s.get("title", "")), _s(s, "intro"), ref.pos))
    seen: dict[str, Section] = {}
    for sec in sections:
        if sec.id in seen:
            r.problems.append(
                error(
                    sec.pos,
                    "duplicate-id",
                    f"section '{sec.id}' is defined twice (first at line {seen[sec.id].pos.line}); "
                    "rename or remove one",
                )
            )
        seen.setdefault(sec.id, sec)
    q = cast(Rec | None, rec.get("quotes"))
    defaults = Settings()
    settings = Settings(
        cast(int, q.get("max_omission", defaults.max_omission)) if q else defaults.max_omission,
        cast(int, q.get("max_substitution", defaults.max_substitution)) if q else defaults.max_substitution,
        cast(int, q.get("min_words", defaults.min_words)) if q else defaults.min_words,
    )
    return Dossier(
        title=cast(str, rec.get("title", "")),
        subtitle=_s(rec, "subtitle"),
        summary=_s(rec, "summary"),
        authors=_t(rec, "authors"),
        updated=cast(dt.date | None, rec.get("updated")),
        base_url=_base_url(r, rec),
        sections=tuple(seen.values()),
        quotes=settings,
        file=r.display(path),
    )


def _base_url(r: _Reader, rec: Rec) -> str | None:
    """The address the site is published at, as an ASCII URI (a sitemap's ``<loc>`` must
    be one): its host in IDNA, the rest percent-encoded. Every page's address is made by
    adding to it, so it may hold no query or fragment."""
    url = _s(rec, "base_url")
    if url is None:
        return None
    pos = rec.where["base_url"]
    if "?" in url or "#" in url:
        r.problems.append(
            error(
                pos,
                "invalid-value",
                f"'base_url' is the address the site is published at, with no query ('?') or "
                f"fragment ('#'); got '{url}'",
            )
        )
        return None
    if url.isascii():
        return url
    from urllib.parse import quote, urlsplit, urlunsplit

    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    host, colon, port = hostport.rpartition(":") if hostport.count(":") == 1 else (hostport, "", "")
    try:
        # Python's codec is IDNA 2003, which maps these four where browsers (UTS #46) keep
        # them (fa\u00df.de is not fass.de): such a host must be given in its ASCII form.
        if any(c in host for c in "\u00df\u03c2\u200c\u200d"):
            raise UnicodeError("write this host in its ASCII form (xn--...)")
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        r.problems.append(error(pos, "invalid-value", f"'base_url' has a host name IDNA refuses: '{host}'"))
        return None
    netloc = quote(userinfo, safe="%:!$&'()*+,;=") + at + ascii_host + colon + port
    return urlunsplit((parts.scheme, netloc, quote(parts.path, safe="/%!$&'()*+,;=:@~"), "", ""))


def _read_entities(r: _Reader, path: Path, cache: Cache | None) -> dict[str, Entity]:
    if not path.exists() and not path.is_symlink():
        return {}
    node = r.read_yaml(path, required=False, cache=cache)
    if node is None:
        return {}
    items = cast(
        tuple[tuple[Ref, Rec], ...] | None, schema.convert(node, schema.ENTITIES, r.problems, "entities")
    )
    out: dict[str, Entity] = {}
    for ref, rec in items or ():
        out[ref.id] = Entity(
            ref.id,
            cast(str, rec.get("name", ref.id)),
            _s(rec, "kind"),
            _s(rec, "description"),
            _t(rec, "aliases"),
            ref.pos,
        )
    return out


def _listing(r: _Reader, folder: Path) -> list[str]:
    """The paths of the files below ``folder``, sorted; links to folders are not followed.
    (As text: a ``Path`` each for 10,000 cards took 20 ms.)"""
    return [
        os.path.join(prefix, f)
        for prefix, filenames in ((str(base), names) for base, names in _walk(r, folder))
        for f in sorted(filenames)
    ]


def _top_files(r: _Reader, folder: Path) -> list[str]:
    """The names of the files directly in ``folder``, sorted (the folders below it are
    looked at as ``_listing`` does, for the same problems)."""
    names: list[str] = []
    for base, filenames in _walk(r, folder):
        if base == folder:
            names = sorted(filenames)
    return names


def _walk(r: _Reader, folder: Path) -> Iterator[tuple[Path, list[str]]]:
    """Each folder below ``folder`` (itself first) and the names of its files; a folder
    named as a file is expected, or that is a link, is a problem."""
    if not folder.is_dir():
        if folder.exists() or folder.is_symlink():
            r.problems.append(error(Pos(r.display(folder)), "unsafe-path", f"{folder.name} must be a folder"))
        return
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames.sort()
        base = Path(dirpath)
        for d in dirnames:
            if d.lower().endswith((".yaml", ".yml", *TEXT_SUFFIXES)):
                r.problems.append(
                    error(
                        Pos(r.display(base / d)), "invalid-value", "this is a folder; a file is expected here"
                    )
                )
            if (base / d).is_symlink():
                r.problems.append(
                    error(
                        Pos(r.display(base / d)),
                        "unsafe-path",
                        "links to folders are not followed; move the files here",
                    )
                )
        yield base, filenames


def _suffix(name: str) -> str:
    """A file name's suffix, in lower case, as ``Path.suffix`` has it (``..yaml``'s is
    ``.yaml``, where ``os.path.splitext`` gives none)."""
    stem, dot, ext = name.rpartition(".")
    return f".{ext.lower()}" if dot and stem and ext else ""


def _id_of(r: _Reader, path: Path | str) -> str | None:
    stem = (path.name if isinstance(path, Path) else os.path.basename(path)).rsplit(".", 1)[0]
    if ID_RE.match(stem):
        return stem
    r.problems.append(
        error(
            Pos(r.display(path)),
            "invalid-value",
            f"'{stem}' is not a valid id: file names are lowercase letters, digits and hyphens, "
            "starting with a letter",
        )
    )
    return None


def _read_sources(
    r: _Reader, folder: Path, extracted: Cache | None, wanted: set[str] | None = None
) -> tuple[dict[str, Source], set[str]]:
    """Every source (or those ``wanted``), and the ids of all there are."""
    # By name, as text: a Path each for 2,000 files took an update 30 ms (sources live
    # directly in sources/; a Path is made for those read).
    texts: dict[str, str] = {}
    metas: dict[str, str] = {}
    prefix = os.path.join(str(folder), "")
    for name in _top_files(r, folder):
        suffix = _suffix(name)
        if suffix not in TEXT_SUFFIXES and suffix != ".yaml":
            continue
        sid = _id_of(r, prefix + name)
        if sid is None:
            continue
        found, what = (metas, "metadata") if suffix == ".yaml" else (texts, "text")
        if sid in found:
            r.problems.append(
                error(
                    Pos(r.display(prefix + name)),
                    "duplicate-id",
                    f"source '{sid}' has two {what} files: {found[sid]} and {name}; keep one",
                )
            )
            continue
        found[sid] = name
    out: dict[str, Source] = {}
    for sid in sorted(set(texts) | set(metas)):
        if wanted is not None and sid not in wanted:
            continue
        source = _read_source(r, folder, sid, texts.get(sid), metas.get(sid), extracted)
        if source is not None:
            out[sid] = source
    return out, set(texts) | set(metas)


def _read_source(
    r: _Reader, folder: Path, sid: str, text_name: str | None, meta_name: str | None, extracted: Cache | None
) -> Source | None:
    """Source ``sid`` from its text and metadata files (None after a problem)."""
    if meta_name is None:
        assert text_name is not None
        r.problems.append(
            error(
                Pos(r.display(folder / text_name)),
                "missing-file",
                f"source '{sid}' has no metadata file sources/{sid}.yaml; create it with at least a title",
            )
        )
        return None
    meta = folder / meta_name
    if text_name is None:
        r.problems.append(
            error(
                Pos(r.display(meta)),
                "source-unreadable",
                f"source '{sid}' has no text file; save it as sources/{sid}.txt (or .md, .html, .pdf)",
            )
        )
        return None
    path = folder / text_name
    rec = _source_record(r, meta, extracted)
    # A source that cannot be used is unreadable, whatever the reason (SPEC §4's code).
    data = r.read_bytes(path, MAX_SOURCE_BYTES, too_large="source-unreadable")
    if data is None:
        return None
    digest = hashlib.sha256(data).hexdigest()
    pinned = _s(rec, "sha256") if rec else None
    if rec is not None and pinned is not None and pinned != digest:
        r.problems.append(
            error(
                rec.where["sha256"],
                "source-changed",
                f"the text of source '{sid}' has changed since it was pinned (its sha256 is now "
                f"{digest}); re-check every card that quotes it, then update sha256",
            )
        )
        return None
    kind = path.suffix.lower().lstrip(".")
    pages: tuple[int, ...] = ()
    if kind in ("txt", "md"):
        text, problems = decode(data, r.display(path), code="source-unreadable")
        r.problems.extend(problems)
    else:
        text, pages = _extracted(r, path, kind, data, digest, extracted)
    if text is None or rec is None:
        return None
    return Source(
        id=sid,
        title=cast(str, rec.get("title", sid)),
        publisher=_s(rec, "publisher"),
        author=_s(rec, "author"),
        url=_s(rec, "url"),
        published=rec.get("published"),  # type: ignore[arg-type]
        retrieved=rec.get("retrieved"),  # type: ignore[arg-type]
        language=_s(rec, "language"),
        notes=_s(rec, "notes"),
        sha256=digest,
        text=text,
        text_file=r.display(path),
        meta_file=r.display(meta),
        kind=kind,
        pages=pages,
        path=path if kind == "pdf" else None,
    )


def _source_record(r: _Reader, path: Path, cache: Cache | None) -> Rec | None:
    """A source's metadata; with a cache, from it when the file's bytes are known (a
    thousand sources' YAML takes a quarter of a second to parse)."""
    if cache is None:
        return r.record(path, schema.SOURCE)
    data = r.read_bytes(path, MAX_CARD_BYTES, code="yaml-unreadable")
    if data is None:
        return None
    shown = r.display(path)
    key = (shown, hashlib.sha256(data).hexdigest())
    hit = cache.meta(key)
    if hit is None:
        before = len(r.problems)
        rec = r.record_of(data, shown, schema.SOURCE)
        cache.put_meta(key, rec, r.problems[before:])
        return rec
    rec, problems = hit
    r.problems.extend(problems)
    return rec


def _extracted(
    r: _Reader, path: Path, kind: str, data: bytes, digest: str, cache: Cache | None
) -> tuple[str | None, tuple[int, ...]]:
    """The visible text of an HTML or PDF source, from the cache when its bytes are known
    as this kind of source."""
    digest = f"{digest}.{kind}"
    if cache is not None and (hit := cache.extracted.get(digest)) is not None:
        cache.used_extracted.add(digest)
        return hit
    try:
        result = extract(kind, data)
    except ExtractError as exc:
        where = f" (byte offset {exc.offset})" if exc.offset is not None else ""
        r.problems.append(
            error(
                Pos(r.display(path)),
                "source-unreadable",
                f"cannot read the text of this {kind.upper()}: {exc}{where}",
            )
        )
        return None, ()
    if cache is not None:
        cache.extracted[digest] = (result.text, result.pages)
        cache.changed = cache.costly = True
        cache.used_extracted.add(digest)
    return result.text, result.pages


def _read_facts(
    r: _Reader,
    folder: Path,
    cache: Cache | None,
    only: set[str] | None = None,
    listed: Iterable[str] | None = None,
) -> tuple[dict[str, Fact], set[str]]:
    """Every card below facts/ (or those ``only`` names), and the ids of all there are;
    with a cache, a card whose bytes are known is not parsed. ``listed``: see
    ``read_content``."""
    out: dict[str, Fact] = {}
    files: dict[str, str] = {}
    todo: list[tuple[str, str, str]] = []  # (path, shown path, id) of each card to read
    if only is not None and listed is not None:
        for name in listed:
            files[card_id(name)] = name
        for listed_id, name in files.items():
            if name in only:  # opened by the path it was surveyed by, not the one shown
                real = (
                    r.root_prefix + name[len(r.shown_prefix) :] if name.startswith(r.shown_prefix) else name
                )
                todo.append((real, name, listed_id))
        _read_cards(r, todo, cache, out)
        return out, set(files)
    for path in _listing(r, folder):
        if _suffix(os.path.basename(path)) not in (".yaml", ".yml"):
            continue
        fid = _id_of(r, path)
        if fid is None:
            continue
        shown = r.display(path)
        if fid in files:
            r.problems.append(
                error(
                    Pos(shown),
                    "duplicate-id",
                    f"fact id '{fid}' is used twice: here and in {files[fid]}; rename one file",
                )
            )
            continue
        files[fid] = shown
        if only is not None and shown not in only:
            continue
        todo.append((path, shown, fid))
    _read_cards(r, todo, cache, out)
    return out, set(files)


def card_id(shown: str) -> str:
    """The id of a card by its path as shown: its file's name without the suffix."""
    return shown[shown.rfind(os.sep) + 1 :].rsplit(".", 1)[0]


#: From this many cards to parse (not known to the cache), they are parsed in runs by this
#: process and a forked one, each taking the next run as soon as it is free.
PARALLEL_CARDS = 2000
CARD_RUNS = 16

Card = tuple[Fact | None, list[Problem]]


@dataclass(frozen=True, slots=True)
class _Unparsed:
    """A card read but not parsed yet: its bytes, where it goes, and (with a cache) its
    stat as found before it was read and its bytes' digest."""

    data: bytes
    shown: str
    fid: str
    stat: tuple[int, int, int, int, int] | None = None
    digest: str = ""


def _read_cards(
    r: _Reader, todo: list[tuple[str, str, str]], cache: Cache | None, out: dict[str, Fact]
) -> None:
    """Read each card of ``todo`` (its path, shown path and id) into ``out``, in order, its
    problems into ``r``: those the cache knows from it, the rest parsed. With thousands to
    parse, they are parsed in runs by this process and a forked one, each taking the next
    run as soon as it is free (``parallel.each_claimed``); the child's come back as the
    cache keeps a card (read back in 13 us, where a plain card takes 40-55 to parse and
    the others 110): a check of 10,000 cards with no cache took 1.18 s against 1.30 with
    every plain card parsed here, and 1.67 against 1.91 on a slower stretch (medians of 16
    and 20 runs in turns, shared then in turns). Sent to two children, every run read back
    here, they gained nothing (1.58 s against 1.57)."""
    got = [_known_card(r, path, shown, fid, cache) for path, shown, fid in todo]
    unparsed = [(i, g) for i, g in enumerate(got) if isinstance(g, _Unparsed)]
    cards = [g for _, g in unparsed]

    def run(which: range) -> list[tuple[Card, bytes | None]]:
        return [(parse_card(cards[k].data, cards[k].shown, cards[k].fid), None) for k in which]

    made: Iterable[tuple[Card, bytes | None]]
    if len(cards) >= PARALLEL_CARDS and parallel.usable():
        runs = parallel.each_claimed(
            run, parallel.ranges(len(cards), CARD_RUNS), across=(_records, _cards), here=True
        )
        made = (card for done in runs for card in done)
    else:
        made = run(range(len(cards)))
    for (i, g), (card, stored) in zip(unparsed, made, strict=True):
        got[i] = card
        if cache is not None:
            _remember_card(g, cache, stored if stored is not None else card_bytes(*card))
    for (_, _, fid), done in zip(todo, got, strict=True):
        if done is None or isinstance(done, _Unparsed):
            continue
        fact, problems = done
        r.problems.extend(problems)
        if fact is not None:
            out[fid] = fact


def _records(cards: list[tuple[Card, bytes | None]]) -> bytes:
    """A run of cards parsed, as a child sends it: each as the cache keeps it."""
    return marshal.dumps([card_bytes(*card) for card, _ in cards])


def _cards(sent: bytes) -> list[tuple[Card, bytes | None]]:
    """A run a child sent: each card, and its bytes as the cache keeps it."""
    return [(card_of_bytes(stored), stored) for stored in marshal.loads(sent)]


def _remember_card(card: _Unparsed, cache: Cache, stored: bytes) -> None:
    cache.put_card_bytes((card.shown, card.digest), stored)
    _remember_stat(card.stat, card.shown, card.digest, cache)


def _known_card(r: _Reader, path: str, shown: str, fid: str, cache: Cache | None) -> Card | _Unparsed | None:
    """One card as the cache knows it; else its bytes to parse (None: it could not be
    read, the problem said in ``r``)."""
    hit = _unchanged_card(r, path, shown, cache)
    if hit is not None:
        return hit
    if cache is None:
        data = r.read_bytes(path, MAX_CARD_BYTES, code="yaml-unreadable", shown=shown)
        return None if data is None else _Unparsed(data, shown, fid)
    # The stat is taken before the bytes are read (the open file's, as the survey's lstat
    # sees a plain file): a card rewritten meanwhile then shows as changed next time (a
    # stat taken after would vouch for bytes never read). A link has none kept.
    seen: list[os.stat_result] = []
    data = r.read_bytes(path, MAX_CARD_BYTES, code="yaml-unreadable", shown=shown, stat_of=seen)
    if data is None:
        return None
    st = _vouched(seen[0]) if seen else None
    digest = hashlib.sha256(data).hexdigest()
    cached = cache.card((shown, digest))
    if cached is not None:
        _remember_stat(st, shown, digest, cache)
        return cached
    return _Unparsed(data, shown, fid, st, digest)


def _stat_key(path: str) -> tuple[int, int, int, int, int] | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return _vouched(st)


def _vouched(st: os.stat_result) -> tuple[int, int, int, int, int] | None:
    """The key a card's stat is kept by (None: not to be vouched for)."""
    if not stat.S_ISREG(st.st_mode):
        return None
    # Too recent to vouch for: a rewrite in the same tick of the clock, of the same size,
    # would leave the same stat (the card is read again until it has settled).
    if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) < surveys.RACY_NS:
        return None
    # ctime cannot be set back by a program, so a write always shows, whatever the mtime.
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def _unchanged_card(
    r: _Reader, path: str, shown: str, cache: Cache | None
) -> tuple[Fact | None, list[Problem]] | None:
    """A card untouched since it was last read (same size, mtime, ctime and inode: not a
    link, inside the content folder) comes from the cache without being read again."""
    if cache is None:
        return None
    known = cache.card_stats.get(shown)
    # (A stat is only taken of a plain file, not a link: its folder is all left to ask of.)
    if known is None or _stat_key(path) != tuple(known[:-1]) or not r.dir_inside(os.path.dirname(path)):
        return None
    return cache.card((shown, known[-1]))


def _remember_stat(key: tuple[int, int, int, int, int] | None, shown: str, digest: str, cache: Cache) -> None:
    if key is not None and cache.card_stats.get(shown) != (*key, digest):
        cache.card_stats[shown] = (*key, digest)
        cache.changed = True
        cache.cheap += 1


def parse_card(data: bytes, shown: str, fid: str) -> tuple[Fact | None, list[Problem]]:
    """One card's bytes into a fact (as much of it as is valid) and its problems."""
    text, problems = decode(data, shown)
    if text is None:
        return None, problems
    if (plain := plaincard.read(text, shown, fid)) is not None:
        return plain, []
    return parse_card_text(text, shown, fid)


def parse_card_text(text: str, shown: str, fid: str) -> tuple[Fact | None, list[Problem]]:
    """``parse_card`` for a decoded card, by the general reader: a located YAML tree
    converted by the schema, every problem found."""
    node, problems = parse(text, shown)
    if node is None:
        if not problems:
            problems.append(error(Pos(shown), "missing-field", "the file is empty"))
        return None, problems
    rec = cast(Rec | None, schema.convert(node, schema.FACT, problems, schema.FACT.name))
    if rec is None:
        return None, problems
    evidence = []
    elsewhere: list[Ref] = []
    for ev in cast(tuple[Rec, ...], rec.get("evidence", ())):
        if "source" not in ev.values or "quote" not in ev.values:
            if "source" in ev.values:  # (the rest reported already: the source is still checked)
                elsewhere.append(cast(Ref, ev.get("source")))
            continue
        evidence.append(
            Evidence(
                source=cast(Ref, ev.get("source")),
                quote=cast(str, ev.get("quote")),
                quote_pos=ev.where["quote"],
                stance=cast(str, ev.get("stance", "supports")),
                note=_s(ev, "note"),
            )
        )
    fact = Fact(
        id=fid,
        file=shown,
        claim=cast(str, rec.get("claim", "")),
        status=cast(str, rec.get("status", "unverified")),
        date=cast(PartialDate | None, rec.get("date")),
        section=cast(Ref | None, rec.get("section")),
        entities=cast(tuple[Ref, ...], rec.get("entities", ())),
        tags=_t(rec, "tags"),
        related=cast(tuple[Ref, ...], rec.get("related", ())),
        evidence=tuple(evidence),
        notes=_s(rec, "notes"),
        cited_elsewhere=tuple(elsewhere),
    )
    return fact, problems


def check_references(content: Content, source_ids: set[str], fact_ids: set[str]) -> list[Problem]:
    """Every id a card names must exist (a file that failed to load still exists, and is
    what a hint suggests: a card's problems depend on the other files' names, not bytes)."""
    problems: list[Problem] = []
    sections = {s.id for s in content.dossier.sections}
    for fact in content.facts.values():
        if fact.section is not None and fact.section.id not in sections:
            problems.append(_unknown(fact.section, "unknown-section", "section", sections))
        for ref in fact.entities:
            if ref.id not in content.entities:
                problems.append(_unknown(ref, "unknown-entity", "entity", content.entities))
        for ref in fact.related:
            if ref.id not in fact_ids:
                problems.append(_unknown(ref, "unknown-fact", "fact", fact_ids))
            elif ref.id == fact.id:
                problems.append(error(ref.pos, "invalid-value", "a fact cannot be related to itself"))
        for ref in (*(ev.source for ev in fact.evidence), *fact.cited_elsewhere):
            if ref.id not in source_ids:
                problems.append(_unknown(ref, "unknown-source", "source", source_ids))
    return problems


def _unknown(ref: Ref, code: str, what: str, known: object) -> Problem:
    names = sorted(known)  # type: ignore[call-overload]
    close = difflib.get_close_matches(ref.id, names, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return error(ref.pos, code, f"no {what} has the id '{ref.id}'{hint or '; check the spelling or add it'}")

"""Reading YAML safely into a tree of nodes that remember where they stand.

PyYAML's loaders build Python objects and lose positions; they also keep the last of two
duplicate keys and apply YAML 1.1 typing (``no`` is ``False``). Here the event stream is
composed by hand instead: every scalar stays a string until the schema gives it a type,
duplicate keys, tags, anchors and aliases are refused, and nesting is handled without
recursion so a deep document cannot exhaust the stack.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from .problems import Pos, Problem, error

if TYPE_CHECKING:
    import yaml

MAX_DEPTH = 50
_COMMENT_AFTER = re.compile(r"[ \t]+#(\S?)")


# Named tuples, not dataclasses: a check builds hundreds of thousands of these nodes, and
# a tuple is several times cheaper to make. They are immutable all the same.


class Scalar(NamedTuple):
    pos: Pos
    text: str
    plain: bool
    #: A plain scalar followed by ``  # ...`` on its last line: YAML cut it at the comment.
    comment_follows: bool = False
    #: ... and the ``#`` is joined to what follows it (``#1``, ``#Putin``), as a comment's
    #: rarely is: the text was most likely cut where it did not mean to end.
    joined_hash: bool = False

    @property
    def is_null(self) -> bool:
        return self.plain and self.text in ("", "~", "null", "Null", "NULL")


class Sequence(NamedTuple):
    pos: Pos
    items: tuple[Node, ...]


class Mapping(NamedTuple):
    pos: Pos
    items: tuple[tuple[Scalar, Node], ...]

    def get(self, key: str) -> Node | None:
        for k, v in self.items:
            if k.text == key:
                return v
        return None


Node = Scalar | Sequence | Mapping

_SCALAR, _SEQUENCE, _MAPPING = range(3)


def node_record(node: Node) -> tuple[object, ...]:
    """A tree as plain tuples, for marshal (``node_from_record`` makes it again). Its depth
    is the document's, which ``parse`` holds to ``MAX_DEPTH``."""
    if isinstance(node, Scalar):
        return (_SCALAR, tuple(node.pos), node.text, node.plain, node.comment_follows, node.joined_hash)
    if isinstance(node, Sequence):
        return (_SEQUENCE, tuple(node.pos), tuple(node_record(item) for item in node.items))
    return (_MAPPING, tuple(node.pos), tuple((node_record(k), node_record(v)) for k, v in node.items))


def node_from_record(raw: Any) -> Node:
    """The tree ``node_record`` made ``raw`` of."""
    kind, pos = raw[0], Pos(*raw[1])
    if kind == _SCALAR:
        return Scalar(pos, *raw[2:])
    if kind == _SEQUENCE:
        return Sequence(pos, tuple(node_from_record(item) for item in raw[2]))
    items = tuple((cast(Scalar, node_from_record(k)), node_from_record(v)) for k, v in raw[2])
    return Mapping(pos, items)


def _pos(file: str, mark: Any) -> Pos:
    if mark is None:
        return Pos(file)
    return Pos(file, mark.line + 1, mark.column + 1)


def decode(data: bytes, file: str, code: str = "invalid-utf8") -> tuple[str | None, list[Problem]]:
    """Decode UTF-8 (a leading BOM is allowed); name the first bad byte otherwise, as a
    problem of ``code``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        return None, [
            error(
                Pos(file, line, col),
                code,
                f"not valid UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}; "
                "save the file as UTF-8",
            )
        ]
    return text.removeprefix("\ufeff"), []


class _Frame:
    __slots__ = ("anchor", "is_map", "items", "key", "keys", "pos")

    def __init__(self, pos: Pos, is_map: bool, anchor: str | None) -> None:
        self.pos = pos
        self.is_map = is_map
        self.anchor = anchor
        self.items: list[object] = []
        self.keys: set[str] = set()
        self.key: Scalar | None = None


def parse(text: str, file: str, *, allow_anchors: bool = False) -> tuple[Node | None, list[Problem]]:
    """Compose one YAML document into a located tree, or report why not.

    An empty document gives ``None`` and no problem; the caller decides whether that is one.
    Plain files take libyaml's composer (fast); any file that could hold a tag, an anchor,
    several documents or deep nesting takes the event-by-event path, which reports those.
    """
    if _parsers()[1] is not None and not _needs_events(text):
        try:
            return _parse_fast(text, file)
        except RecursionError:  # nesting deeper than the cheap test saw: the event path reports it
            pass
    return _parse_events(text, file, allow_anchors=allow_anchors)


def _needs_events(text: str) -> bool:
    """Could the text hold a tag, an anchor, several documents or deep nesting?"""
    return (
        "!" in text
        or "&" in text
        or "%" in text
        or text.startswith(("---", "..."))
        or "\n---" in text
        or "\n..." in text
        or text.count("[") + text.count("{") > 2 * MAX_DEPTH // 5
        or "\n" + " " * 60 in text
    )


_STR, _SEQ, _MAP = "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"


@functools.cache
def _parsers() -> tuple[Any, Any]:
    """PyYAML's loader for the event path (libyaml's where PyYAML has it: about ten times
    faster, and both keep the marks needed), and libyaml's composer with every scalar left
    a string (None without libyaml). Made on first use: PyYAML takes 15-20 ms to import,
    which a run that reads every YAML file from the cache (an update) never needs."""
    import yaml

    try:
        from yaml import CSafeLoader as loader
    except ImportError:  # pragma: no cover - depends on how PyYAML was built
        from yaml import SafeLoader as loader  # type: ignore[assignment]
    try:
        from yaml._yaml import CParser
    except ImportError:  # pragma: no cover - PyYAML without libyaml
        return loader, None
    scalar_node, sequence_node = yaml.ScalarNode, yaml.SequenceNode

    class Composer(CParser):
        """libyaml's composer with every scalar left a string (the schema types them)."""

        def descend_resolver(self, parent: object, index: object) -> None:
            pass

        def ascend_resolver(self) -> None:
            pass

        def resolve(self, kind: type, value: object, implicit: object) -> str:
            if kind is scalar_node:
                return _STR
            return _SEQ if kind is sequence_node else _MAP

    return loader, Composer


def _parse_fast(text: str, file: str) -> tuple[Node | None, list[Problem]]:
    import yaml

    parser = _parsers()[1](text)
    try:
        root = parser.get_single_node()
    except yaml.MarkedYAMLError as exc:
        return None, [_syntax(file, exc)]
    except yaml.reader.ReaderError as exc:
        return None, [_reader_error(file, text, exc)]
    except yaml.YAMLError as exc:
        return None, [error(Pos(file), "yaml-syntax", f"YAML syntax: {exc}")]
    finally:
        parser.dispose()
    if root is None:
        return None, []
    # No '&' in the text (see _needs_events), so no anchors and no aliases to look for.
    problems: list[Problem] = []
    scalar_node, sequence_node = yaml.ScalarNode, yaml.SequenceNode
    comment_after = _COMMENT_AFTER.match
    # The named tuples are made by ``tuple.__new__`` itself: their generated ``__new__``
    # is a Python call each, and a card makes some sixty of them (a bench card composed in
    # 87-112 us, was 122-140).
    new, pos_t, scalar_t, sequence_t, mapping_t = tuple.__new__, Pos, Scalar, Sequence, Mapping

    # (It is handed itself to recurse: a nested function naming itself is a cycle, function
    # and cell, that only the collector frees, and what a check reads is frozen after.)
    def convert(node: yaml.Node, convert: Callable[[yaml.Node, Any], Node]) -> Node:
        mark = node.start_mark
        pos = new(pos_t, (file, mark.line + 1, mark.column + 1))
        kind = type(node)
        if kind is scalar_node:
            plain = not node.style  # type: ignore[attr-defined]
            cut = comment_after(text, node.end_mark.index) if plain else None
            return new(scalar_t, (pos, node.value, plain, cut is not None, bool(cut and cut[1])))
        if kind is sequence_node:
            return new(sequence_t, (pos, tuple([convert(item, convert) for item in node.value])))
        items: list[tuple[Scalar, Node]] = []
        keys: set[str] = set()
        for k, v in node.value:
            key = convert(k, convert)
            if not isinstance(key, Scalar):
                problems.append(error(key.pos, "yaml-syntax", "a mapping key must be a plain value"))
                continue
            if key.text in keys:
                problems.append(
                    error(
                        key.pos,
                        "duplicate-key",
                        f"duplicate key '{key.text}': each key may appear once; remove or merge the repeats",
                    )
                )
                continue
            keys.add(key.text)
            items.append((key, convert(v, convert)))
        return new(mapping_t, (pos, tuple(items)))

    tree = convert(root, convert)
    if any(p.code != "duplicate-key" for p in problems):
        return None, problems
    return tree, problems


def _syntax(file: str, exc: yaml.MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    what = exc.problem or "invalid YAML"
    if exc.context:
        what = f"{what} ({exc.context})"
    return error(_pos(file, mark), "yaml-syntax", f"YAML syntax: {what}")


def _reader_error(file: str, text: str, exc: yaml.reader.ReaderError) -> Problem:
    before = text[: exc.position]
    pos = Pos(file, before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1)
    ch = exc.character
    code = ord(ch) if isinstance(ch, str) else int(ch)
    return error(pos, "yaml-syntax", f"YAML syntax: character U+{code:04X} is not allowed")


def _parse_events(text: str, file: str, *, allow_anchors: bool = False) -> tuple[Node | None, list[Problem]]:
    problems: list[Problem] = []
    stack: list[_Frame] = []
    anchors: dict[str, Node] = {}
    root: Node | None = None
    documents = 0

    def attach(node: Node) -> None:
        nonlocal root
        if not stack:
            root = node
            return
        top = stack[-1]
        if not top.is_map:
            top.items.append(node)
            return
        if top.key is None:
            if not isinstance(node, Scalar):
                problems.append(error(node.pos, "yaml-syntax", "a mapping key must be a plain value"))
                top.key = Scalar(node.pos, "\0invalid", plain=False)
                return
            top.key = node
            return
        key, top.key = top.key, None
        if key.text == "\0invalid":
            return
        if key.text in top.keys:
            problems.append(
                error(
                    key.pos,
                    "duplicate-key",
                    f"duplicate key '{key.text}': each key may appear once; remove or merge the repeats",
                )
            )
            return
        top.keys.add(key.text)
        top.items.append((key, node))

    def anchor(name: str | None, node: Node) -> None:
        if name is None:
            return
        if allow_anchors:
            anchors[name] = node
        else:
            problems.append(
                error(node.pos, "yaml-anchor", f"anchors (&{name}) are not allowed here; write the value out")
            )

    import yaml

    try:
        for ev in yaml.parse(text, Loader=_parsers()[0]):
            if isinstance(ev, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    problems.append(
                        error(
                            _pos(file, ev.start_mark),
                            "yaml-syntax",
                            "only one YAML document is allowed per file",
                        )
                    )
                    break
                continue
            tag = getattr(ev, "tag", None)
            if tag not in (None, "!"):
                problems.append(
                    error(_pos(file, ev.start_mark), "yaml-tag", f"YAML tags ({tag}) are not allowed")
                )
                break
            if isinstance(ev, yaml.ScalarEvent):
                plain = ev.style in (None, "")
                cut = _COMMENT_AFTER.match(text, ev.end_mark.index) if plain and ev.end_mark else None
                node: Node = Scalar(
                    _pos(file, ev.start_mark), ev.value, plain, cut is not None, bool(cut and cut[1])
                )
                anchor(ev.anchor, node)
                attach(node)
            elif isinstance(ev, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                is_map = isinstance(ev, yaml.MappingStartEvent)
                if len(stack) >= MAX_DEPTH:
                    problems.append(
                        error(
                            _pos(file, ev.start_mark),
                            "yaml-syntax",
                            f"nested more than {MAX_DEPTH} levels deep",
                        )
                    )
                    break
                stack.append(_Frame(_pos(file, ev.start_mark), is_map, ev.anchor))
            elif isinstance(ev, yaml.SequenceEndEvent | yaml.MappingEndEvent):
                frame = stack.pop()
                done: Node
                if frame.is_map:
                    done = Mapping(frame.pos, tuple(frame.items))  # type: ignore[arg-type]
                else:
                    done = Sequence(frame.pos, tuple(frame.items))  # type: ignore[arg-type]
                anchor(frame.anchor, done)
                attach(done)
            elif isinstance(ev, yaml.AliasEvent):
                pos = _pos(file, ev.start_mark)
                if not allow_anchors or ev.anchor not in anchors:
                    problems.append(
                        error(
                            pos,
                            "yaml-anchor",
                            f"aliases (*{ev.anchor}) are not allowed here; write the value out",
                        )
                    )
                    break
                attach(anchors[ev.anchor])
    except yaml.MarkedYAMLError as exc:
        return None, [_syntax(file, exc)]
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow
        return None, [_reader_error(file, text, exc)]
    except yaml.YAMLError as exc:  # a reader error without a mark
        return None, [error(Pos(file), "yaml-syntax", f"YAML syntax: {exc}")]
    if stack or any(p.code != "duplicate-key" for p in problems):
        return None, problems
    # Duplicate keys are errors, but the rest of the file is still worth checking.
    return root, problems

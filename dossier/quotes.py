"""The quote verifier (SPEC §3): does a quote, editorial marks and all, stand in a source?

``verify(quote, source, settings)`` is a pure function. It returns a ``Match`` holding the
spans of the verbatim pieces in the *original* source text (for highlighting), or a
``Miss`` that explains the failure. Matching is exact after normalisation; fuzzy
comparison only ever runs on a miss, to explain it.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

from .normalise import Normalised, normalise, normalise_text

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_MARK = re.compile(
    r"\[\.\.\.\]|\.\.\.(?!\.)|(?P<sic>\[sic\])|\[(?P<letter>[^\W\d_])\]|\[(?P<sub>[^\[\]]+)\]",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"\b(?:not|no|never|without|cannot|nothing|none|nor|neither|nobody|nowhere)\b|n't\b", re.IGNORECASE
)
_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|hundred|thousand|million|billion|trillion|dozen)\b",
    re.IGNORECASE,
)

_NUMBER_WORDS = {
    "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "twenty": "20", "thirty": "30",
    "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90",
}  # fmt: skip
#: A number as a substitution is weighed against it: digits (with a decimal point or mark,
#: or thousands separators) or a number word; "one" is left out ("no one", "one of them").
_NUMBER_TOKEN = re.compile(
    r"\d+(?:[.,]\d+)*|\b(?:"
    + "|".join([*_NUMBER_WORDS, "hundred", "thousand", "million", "billion", "trillion", "dozen"])
    + r")\b",
    re.IGNORECASE,
)
_THOUSANDS = re.compile(r",(?=\d{3}(?!\d))")

OMISSION = "omission"
SUBSTITUTION = "substitution"


@dataclass(frozen=True, slots=True)
class Settings:
    max_omission: int = 300
    max_substitution: int = 80
    min_words: int = 3


@dataclass(frozen=True, slots=True)
class Piece:
    """Verbatim text; ``fold`` holds the offsets whose letter may be either case."""

    text: str
    fold: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Gap:
    kind: str  # OMISSION or SUBSTITUTION
    low: int
    high: int
    #: an omission is among its marks (a gap of marks in a row, ``[...] [him]``, is a
    #: substitution, and what it skips is looked at as an omission's is)
    omits: bool = False
    #: the words its substitutions put in (``[approved]``: ``approved``), for what they
    #: stand for to be weighed against
    said: str = ""


@dataclass(frozen=True, slots=True)
class Parsed:
    pieces: tuple[Piece, ...]
    #: gaps[i] stands between pieces[i-1] and pieces[i]; gaps[0] before the first piece and
    #: gaps[len(pieces)] after the last are None unless the quote starts or ends with a
    #: substitution (a leading or trailing omission asks nothing of the source).
    gaps: tuple[Gap | None, ...]

    @property
    def words(self) -> int:
        return sum(len(_WORD.findall(p.text)) for p in self.pieces)

    def has_words(self, n: int) -> bool:
        """Are there at least ``n`` verbatim words? (``words >= n``, counting no further.)"""
        for p in self.pieces:
            for _ in _WORD.finditer(p.text):
                n -= 1
                if n <= 0:
                    return True
        return n <= 0

    @property
    def verbatim(self) -> str:
        return " ".join(p.text for p in self.pieces)


@dataclass(frozen=True, slots=True)
class Match:
    #: (start, end) of each verbatim piece in the original source text.
    spans: tuple[tuple[int, int], ...]
    #: (start, end) of each piece in the normalised source text.
    nspans: tuple[tuple[int, int], ...]
    #: (code, message) pairs for meaning the omissions may have cut out.
    warnings: tuple[tuple[str, str], ...] = ()

    @property
    def start(self) -> int:
        return self.spans[0][0]

    @property
    def end(self) -> int:
        return self.spans[-1][1]


@dataclass(frozen=True, slots=True)
class Nearest:
    """The passage of the source closest to a quote that was not found."""

    text: str  # the passage as the source writes it
    line: int
    start: int
    end: int
    differences: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Miss:
    code: str  # quote-not-found | quote-too-short
    message: str
    nearest: Nearest | None = None
    suspicious: tuple[str, ...] = ()


class Source:
    """A source text prepared once for any number of quotes."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.norm: Normalised = normalise(text)

    @cached_property
    def _line_starts(self) -> list[int]:
        starts = [0]
        find = self.text.find
        i = find("\n")
        while i >= 0:
            starts.append(i + 1)
            i = find("\n", i + 1)
        return starts

    def line_of(self, offset: int) -> int:
        return bisect_left(self._line_starts, offset + 1)

    @cached_property
    def tokens(self) -> tuple[list[str], list[int]]:
        """The normalised text's space-separated tokens and their start offsets."""
        words: list[str] = []
        starts: list[int] = []
        for m in re.finditer(r"[^ ]+", self.norm.text):
            words.append(m.group())
            starts.append(m.start())
        return words, starts

    @cached_property
    def token_index(self) -> dict[str, list[int]]:
        index: dict[str, list[int]] = {}
        for i, word in enumerate(self.tokens[0]):
            index.setdefault(_key(word), []).append(i)
        return index


def _key(word: str) -> str:
    return word.strip("\"'.,;:!?()[]").lower()


def parse(quote: str, settings: Settings) -> Parsed:
    return _parsed(normalise_text(quote), settings)


def _parsed(text: str, settings: Settings) -> Parsed:
    """``parse`` of a quote normalised already."""
    if "[" not in text and "..." not in text:  # no mark (most quotes): one piece, no gap
        pieces, gaps = _one_piece(text)
    else:
        pieces, gaps = _cut(text, settings)
    # A leading or trailing omission asks nothing of the source.
    if gaps and gaps[0] is not None and gaps[0].kind == OMISSION:
        gaps[0] = None
    if gaps[-1] is not None and gaps[-1].kind == OMISSION:
        gaps[-1] = None
    # The quote's first letter may differ in case (CMOS 13.7), after any quotation mark: not
    # a letter after a substitution the quote starts with ("[He] Gave" is not "he gave").
    if pieces and gaps[0] is None:
        first = pieces[0]
        # (The first character, in most quotes; else a scan for the first letter or digit.)
        said = first.text
        lead = 0 if said[0].isalnum() else next((i for i, c in enumerate(said) if c.isalnum()), None)
        if lead is not None and said[lead].isalpha() and lead not in first.fold:
            pieces[0] = Piece(said, first.fold | {lead})
    return Parsed(tuple(pieces), tuple(gaps))


def _one_piece(text: str) -> tuple[list[Piece], list[Gap | None]]:
    """``_cut`` for a normalised text with no mark in it (no two spaces in a row either)."""
    piece = text.strip(" ")
    return ([Piece(piece)], [None, None]) if piece else ([], [None])


def _cut(text: str, settings: Settings) -> tuple[list[Piece], list[Gap | None]]:
    """A normalised quote's verbatim pieces, and the gaps its marks leave: ``gaps[i]``
    before ``pieces[i]``, the last after the last piece."""
    pieces: list[Piece] = []
    gaps: list[Gap | None] = [None]
    chars: list[str] = []
    fold: set[int] = set()

    def close() -> None:
        piece, keep = _squeeze("".join(chars), fold)
        chars.clear()
        fold.clear()
        if piece:
            pieces.append(Piece(piece, keep))
            gaps.append(None)

    def add_gap(gap: Gap) -> None:
        close()
        prev = gaps[-1]
        if prev is None:
            gaps[-1] = gap
        else:  # marks in a row are one gap: chaining them must not widen what they may skip
            kind = SUBSTITUTION if SUBSTITUTION in (prev.kind, gap.kind) else OMISSION
            low, high = max(prev.low, gap.low), max(prev.high, gap.high)
            said = " ".join(x for x in (prev.said, gap.said) if x)
            gaps[-1] = Gap(kind, low, high, prev.omits or gap.omits, said)

    last = 0
    for m in _MARK.finditer(text):
        chars.extend(text[last : m.start()])
        last = m.end()
        if m.group("sic"):
            # "recieve [sic], not": the space before the mark goes when punctuation follows.
            if chars and chars[-1] == " " and text[m.end() : m.end() + 1] not in (" ", ""):
                chars.pop()
            continue
        if m.group("letter"):
            fold.add(len(chars))
            chars.append(m.group("letter"))
        elif m.group("sub"):
            add_gap(Gap(SUBSTITUTION, 1, settings.max_substitution, said=m.group("sub")))
        else:
            add_gap(Gap(OMISSION, 0, settings.max_omission, omits=True))
    chars.extend(text[last:])
    close()
    return pieces, gaps


def _squeeze(raw: str, fold: set[int]) -> tuple[str, frozenset[int]]:
    """``raw`` with runs of spaces made one and its ends trimmed ([sic] removal can leave
    doubled spaces), and the offsets ``fold`` holds moved to match."""
    if not fold:  # (most quotes: a [letter] is rare) the same, made by the regex engine
        return _SPACES.sub(" ", raw).strip(" "), frozenset()
    out: list[str] = []
    keep: set[int] = set()
    for i, ch in enumerate(raw):
        if ch == " " and (not out or out[-1] == " "):
            continue
        if i in fold:
            keep.add(len(out))
        out.append(ch)
    while out and out[-1] == " ":
        out.pop()
    return "".join(out), frozenset(keep)


_SPACES = re.compile(" {2,}")


def _is_alnum(ch: str) -> bool:
    """Is ``ch`` part of a word: a letter or digit, or a combining mark (a vowel sign, an
    accent written apart), which belongs to the letter before it?"""
    return ch.isalnum() or (ch >= "\u0300" and unicodedata.category(ch)[0] == "M")


def _cases(ch: str) -> list[str]:
    """``ch`` in every case a quote's first letter may take: itself, lower and upper case
    (a titlecase letter, ``ǅ``, is neither)."""
    return list(dict.fromkeys((ch, ch.lower(), ch.upper())))


def _occurrences(piece: Piece, text: str) -> list[tuple[int, int]]:
    """Every place ``piece`` stands in ``text`` with word boundaries respected, in order."""
    p = piece.text
    length = len(p)
    check_before = _is_alnum(p[0])
    check_after = _is_alnum(p[-1])
    starts: list[int]
    if not piece.fold or (piece.fold == {0} and p[0].lower() == p[0].upper()):
        starts = _find_all(text, p)
    elif piece.fold == {0} and length > 1:
        # (Most quotes: the first letter in either case. One search for the rest, the
        # letter before each find looked at, instead of one search for each case.)
        cases = _cases(p[0])
        starts = [i - 1 for i in _find_all(text, p[1:]) if i and text[i - 1] in cases]
    elif piece.fold == {0}:
        starts = sorted(i for c in _cases(p[0]) for i in _find_all(text, c))
    else:
        pattern = "".join(
            f"(?:{'|'.join(map(re.escape, _cases(c)))})" if i in piece.fold else re.escape(c)
            for i, c in enumerate(p)
        )
        starts = [m.start() for m in re.finditer(f"(?=(?:{pattern}))", text)]
    out = []
    end_of_text = len(text)
    for s in starts:
        e = s + length
        if check_before and s > 0 and _is_alnum(text[s - 1]):
            continue
        if check_after and e < end_of_text and _is_alnum(text[e]):
            continue
        out.append((s, e))
    return out


def _find_all(text: str, p: str) -> list[int]:
    out = []
    find = text.find
    i = find(p)
    while i >= 0:
        out.append(i)
        i = find(p, i + 1)
    return out


def _inner(text: str, end: int, start: int) -> int:
    """The length of the skipped text ``text[end:start]`` without its bordering spaces.

    The text is normalised (no two spaces in a row), so only the two ends need a look.
    """
    n = start - end
    if n > 0 and text[end] == " ":
        n -= 1
    if n > 0 and text[start - 1] == " ":
        n -= 1
    return n


def _window(text: str, end: int, gap: Gap) -> tuple[int, int]:
    """The range of starts ``[first, last]`` a next piece may have after a piece ending at
    ``end``: the skipped text grows with the start, so the valid starts are contiguous."""
    size = len(text)
    first = end + gap.low
    while first <= min(end + gap.low + 2, size) and _inner(text, end, first) < gap.low:
        first += 1
    last = min(end + gap.high + 2, size)
    while last >= first and _inner(text, end, last) > gap.high:
        last -= 1
    return first, last


#: Most piece placements examined for one quote. Real quotes need a few hundred; a quote
#: of many short pieces over highly repetitive text could otherwise take minutes.
MAX_PLACEMENTS = 200_000


class TooComplex(Exception):
    pass


def _place(parsed: Parsed, text: str) -> list[tuple[int, int]] | None:
    """The earliest valid placement of every piece, or None."""
    pieces = parsed.pieces
    if len(pieces) == 1:  # (most quotes: no combinations to try, however many places)
        only = _occurrences(pieces[0], text)
        return _place_one(parsed, text, only) if only else None
    found: dict[Piece, list[tuple[int, int]]] = {}
    occ = []
    for p in pieces:
        if p not in found:
            found[p] = _occurrences(p, text)
        occ.append(found[p])
    if any(not o for o in occ):
        return None
    if sum(len(o) for o in occ) > MAX_PLACEMENTS:
        raise TooComplex
    return _place_many(parsed, text, occ)


def _place_one(parsed: Parsed, text: str, occ: list[tuple[int, int]]) -> list[tuple[int, int]] | None:
    """``_place_many`` for one piece: its first occurrence with room for what the gaps
    at the ends ask (a quote starting or ending with a substitution)."""
    lead, trail = parsed.gaps[0], parsed.gaps[1]
    for s, e in occ:
        if (trail is None or len(text[e:].strip(" ")) >= trail.low) and (
            lead is None or len(text[:s].strip(" ")) >= lead.low
        ):
            return [(s, e)]
    return None


def _place_many(parsed: Parsed, text: str, occ: list[list[tuple[int, int]]]) -> list[tuple[int, int]] | None:
    """``_place`` given each piece's occurrences (``occ``, none of them empty).

    Feasibility runs backwards from the last piece: an occurrence of piece i is feasible
    when some feasible occurrence of piece i+1 starts inside its window, which a prefix
    count over the sorted starts answers in O(log n). Then the earliest feasible start of
    the first piece is taken, and for each next piece the earliest feasible start in the
    window of the one before.
    """
    k = len(parsed.pieces)
    lead, trail = parsed.gaps[0], parsed.gaps[k]
    starts = [[s for s, _ in o] for o in occ]
    feasible: list[list[bool]] = [[] for _ in range(k)]
    feasible[k - 1] = [trail is None or len(text[e:].strip(" ")) >= trail.low for _, e in occ[k - 1]]
    # nxt_ok[i][j]: the first feasible occurrence of piece i at index j or later (len if none)
    nxt_ok: list[list[int]] = [[] for _ in range(k)]

    def next_feasible(flags: list[bool]) -> list[int]:
        out = [len(flags)] * (len(flags) + 1)
        for j in range(len(flags) - 1, -1, -1):
            out[j] = j if flags[j] else out[j + 1]
        return out

    nxt_ok[k - 1] = next_feasible(feasible[k - 1])
    for i in range(k - 2, -1, -1):
        gap = parsed.gaps[i + 1]
        assert gap is not None
        following, after = starts[i + 1], nxt_ok[i + 1]
        flags = []
        for _, e in occ[i]:
            first, last = _window(text, e, gap)
            j = after[bisect_left(following, first)]
            flags.append(j < len(following) and following[j] <= last)
        feasible[i] = flags
        nxt_ok[i] = next_feasible(flags)
    chosen: list[tuple[int, int]] = []
    for j, (s, e) in enumerate(occ[0]):
        if feasible[0][j] and (lead is None or len(text[:s].strip(" ")) >= lead.low):
            chosen.append((s, e))
            break
    if not chosen:
        return None
    for i in range(1, k):
        gap = parsed.gaps[i]
        assert gap is not None
        first, last = _window(text, chosen[-1][1], gap)
        j = nxt_ok[i][bisect_left(starts[i], first)]
        if j >= len(starts[i]) or starts[i][j] > last:  # pragma: no cover - feasibility promised one
            return None
        chosen.append(occ[i][j])
    return chosen


def verify(quote: str, source: Source, settings: Settings = Settings()) -> Match | Miss:
    said = normalise_text(quote)
    found = _found_plainly(said, source, settings.min_words)
    if found is not None:
        return found
    parsed = _parsed(said, settings)
    if not parsed.pieces or not parsed.has_words(settings.min_words):
        words = parsed.words
        return Miss(
            "quote-too-short",
            f"the quote's verbatim words number {words}; at least {settings.min_words} are needed "
            "so that it identifies one passage",
        )
    text = source.norm.text
    try:
        placed = _place(parsed, text)
    except TooComplex:
        return Miss(
            "quote-too-complex",
            f"the quote's {len(parsed.pieces)} pieces stand in the source in too many places to "
            "check every combination; quote a longer continuous passage",
        )
    if placed is None:
        return _explain(quote, parsed, source)
    warnings: list[tuple[str, str]] = []
    for i in range(1, len(placed)):
        gap = parsed.gaps[i]
        if gap is None:
            continue
        skipped = text[placed[i - 1][1] : placed[i][0]].strip(" ")
        if not gap.omits:  # a substitution alone: what it stands for, against what it says
            warnings.extend(_substituted(skipped, gap.said))
            continue
        if m := _NEGATION.search(skipped):
            warnings.append(
                ("omission-drops-negation", f"the omission skips '{m.group()}': check the meaning survives")
            )
        if m := _NUMBER.search(skipped):
            warnings.append(
                ("omission-drops-number", f"the omission skips a number ('{_around(skipped, m)}'): check it")
            )
        # A substitution beside the omission ("[did not approve] ..."): a negation it puts
        # in (one it drops, the omission's warning has told).
        if gap.said and (changed := _negation_changed(skipped, gap.said)) and changed[0] == ADDS_NEGATION:
            warnings.append(changed)
    spans = tuple(source.norm.to_original(s, e) for s, e in placed)
    return Match(spans, tuple(placed), tuple(warnings))


def _found_plainly(text: str, source: Source, min_words: int) -> Match | None:
    """``verify`` for the usual quote (``text``, normalised), where it is found: no mark,
    a letter or digit first (only a first letter may change case), enough words. Its first
    occurrence with word boundaries respected is the first ``_place`` would take; the same
    steps, without the pieces, gaps and lists of every occurrence that a quote with marks
    needs (30,000 quotes: 12 us each, was 20). None: the full path decides (and explains a
    miss)."""
    if len(text) < 2 or "[" in text or "..." in text or not text[0].isalnum():
        return None
    n = min_words
    for _ in _WORD.finditer(text):
        n -= 1
        if n <= 0:
            break
    else:
        if n > 0:
            return None
    norm = source.norm.text
    end_of_text = len(norm)
    first, length = text[0], len(text)
    check_after = _is_alnum(text[-1])  # (the first character is one: the start is checked)
    find = norm.find
    if first.isalpha() and first.lower() != first.upper():  # one search for the rest
        cases, rest = _cases(first), text[1:]
        i = find(rest, 1)
        while i >= 0:
            s, e = i - 1, i - 1 + length
            if (
                norm[s] in cases
                and (s == 0 or not _is_alnum(norm[s - 1]))
                and (not check_after or e >= end_of_text or not _is_alnum(norm[e]))
            ):
                return Match((source.norm.to_original(s, e),), ((s, e),))
            i = find(rest, i + 1)
        return None
    s = find(text)
    while s >= 0:
        e = s + length
        if (s == 0 or not _is_alnum(norm[s - 1])) and (
            not check_after or e >= end_of_text or not _is_alnum(norm[e])
        ):
            return Match((source.norm.to_original(s, e),), ((s, e),))
        s = find(text, s + 1)
    return None


def _substituted(skipped: str, said: str) -> list[tuple[str, str]]:
    """Warnings for a substitution that stands for ``skipped`` and puts ``said`` in its
    place: a negation it drops (``He [approved] it`` for ``He did not approve it``) or puts
    in (``He [did not approve] it`` for ``He approved it``), and a number of ``skipped`` it
    does not carry, dropped or changed (``[many] died`` or ``[21] died`` for ``12 died``;
    ``[twelve]`` carries ``12``)."""
    changed = _negation_changed(skipped, said)
    out = [changed] if changed else []
    dropped = _numbers(skipped) - _numbers(said)  # (what it adds, a year put in, is its own)
    if dropped:
        shown = ", ".join(sorted(dropped))
        out.append(
            (
                "substitution-drops-number",
                f"the substitution [{said}] stands for '{skipped}', whose {shown} it does not "
                "carry: check the number",
            )
        )
    return out


ADDS_NEGATION = "substitution-adds-negation"


def _negation_changed(skipped: str, said: str) -> tuple[str, str] | None:
    """The warning for a substitution putting ``said`` for ``skipped`` that drops a
    negation, or puts one in; None when both hold one or neither does."""
    lost, added = _NEGATION.search(skipped), _NEGATION.search(said)
    if lost and not added:
        return (
            "substitution-drops-negation",
            f"the substitution [{said}] stands for '{skipped}', which holds '{lost.group()}': "
            "check the meaning survives",
        )
    if added and not lost:
        return (
            ADDS_NEGATION,
            f"the substitution [{said}] puts '{added.group()}' where the source says "
            f"'{skipped}': check the meaning survives",
        )
    return None


def _numbers(text: str) -> Counter[str]:
    """The numbers ``text`` holds, by value where it is plain: ``12`` and ``twelve`` are
    one, ``1,000`` is ``1000``; ``1.5`` is not ``15``."""
    out: Counter[str] = Counter()
    for m in _NUMBER_TOKEN.finditer(text):
        token = m.group().lower()
        out[_THOUSANDS.sub("", token) if token[0].isdigit() else _NUMBER_WORDS.get(token, token)] += 1
    return out


def _around(text: str, m: re.Match[str]) -> str:
    s = text.rfind(" ", 0, max(m.start() - 1, 0)) + 1
    e = text.find(" ", m.end() + 1)
    return text[s : e if e >= 0 else len(text)]


# --- explaining a miss -------------------------------------------------------------------


def _explain(quote: str, parsed: Parsed, source: Source) -> Miss:
    text = source.norm.text
    odd = _suspicious(quote)
    named = {s.split(" ", 1)[0] for s in odd}
    absent = [s for s in _not_in_source(parsed, text) if s.split(" ", 1)[0] not in named]
    found = [bool(_occurrences(p, text)) for p in parsed.pieces]
    nearest = _nearest(parsed, source, found)
    if all(found) and len(parsed.pieces) > 1:
        message = (
            "every piece of the quote is in the source, but not in this order within the allowed "
            "omission or substitution lengths"
        )
    else:
        message = "the quote is not in the source"
    if odd:
        message += "; the quote contains " + ", ".join(odd)
    if absent:
        message += "; the source never uses " + ", ".join(absent) + ", which the quote does"
    return Miss("quote-not-found", message, nearest, tuple(odd + absent))


def _nearest(parsed: Parsed, source: Source, found: list[bool]) -> Nearest | None:
    # Explain the first piece that is missing, or the whole quote when all are there.
    missing = [p.text for p, ok in zip(parsed.pieces, found, strict=True) if not ok]
    qwords = (missing[0] if missing else parsed.verbatim).split(" ")
    words, starts = source.tokens
    if not words or not qwords:
        return None
    index = source.token_index
    votes: dict[int, int] = {}
    for j, w in enumerate(qwords):
        positions = index.get(_key(w))
        if not positions or len(positions) > 200:
            continue
        for i in positions:
            votes[i - j] = votes.get(i - j, 0) + 1
    if not votes:
        return None
    best = min(votes, key=lambda c: (-votes[c], c))
    pad = max(3, len(qwords) // 4)
    lo = max(best - pad, 0)
    hi = min(best + len(qwords) + pad, len(words))
    window = words[lo:hi]
    sm = difflib.SequenceMatcher(a=[_key(w) for w in qwords], b=[_key(w) for w in window], autojunk=False)
    blocks = [b for b in sm.get_matching_blocks() if b.size]
    if blocks:  # keep the part of the window that lines up with the quote
        first, last = blocks[0], blocks[-1]
        lo2 = lo + max(first.b - first.a, 0)
        hi2 = lo + min(last.b + last.size + (len(qwords) - last.a - last.size), len(window))
        if lo2 < hi2:
            lo, hi = lo2, hi2
            window = words[lo:hi]
            sm = difflib.SequenceMatcher(
                a=[_key(w) for w in qwords], b=[_key(w) for w in window], autojunk=False
            )
    diffs: list[str] = []
    for tag, a0, a1, b0, b1 in sm.get_opcodes():
        q, s = _clip(" ".join(qwords[a0:a1])), _clip(" ".join(window[b0:b1]))
        if tag == "equal":  # the same words but for case or punctuation
            for qw, sw in zip(qwords[a0:a1], window[b0:b1], strict=True):
                if qw != sw and not sw.startswith(qw) and not sw.endswith(qw):
                    diffs.append(f"quote has '{qw}', source has '{sw}'")
        elif tag == "replace":
            diffs.append(f"quote has '{q}', source has '{s}'")
        elif tag == "delete":
            diffs.append(f"quote has '{q}', source has nothing there")
        elif tag == "insert":
            diffs.append(f"source has '{s}', quote has nothing there")
    nstart = starts[lo]
    nend = starts[hi - 1] + len(words[hi - 1])
    ostart, oend = source.norm.to_original(nstart, nend)
    passage = _clip(" ".join(source.text[ostart:oend].split()), 400)
    return Nearest(passage, source.line_of(ostart), ostart, oend, tuple(diffs[:6]))


def _clip(words: str, limit: int = 120) -> str:
    """A difference is for reading: a long run of words is shortened in the middle."""
    if len(words) <= limit:
        return words
    return f"{words[: limit // 2]} … {words[-limit // 2 :]}"


def _suspicious(quote: str) -> list[str]:
    """Invisible or look-alike characters in a quote, by code point."""
    out: list[str] = []
    seen: set[str] = set()
    letters = [c for c in quote if c.isalpha()]
    mostly_latin = sum(1 for c in letters if _script(c) == "LATIN") * 2 > len(letters)
    for word in quote.split():
        scripts = {_script(c) for c in word if c.isalpha()}
        for ch in word:
            if ch in seen:
                continue
            cat = unicodedata.category(ch)
            name = unicodedata.name(ch, "UNNAMED")
            foreign = _script(ch) in _LOOKALIKE_SCRIPTS and (len(scripts) > 1 or mostly_latin)
            odd = cat in ("Cf", "Cc", "Co", "Cn") or (ch.isalpha() and foreign)
            if odd:
                seen.add(ch)
                out.append(f"U+{ord(ch):04X} {name}")
    return out


def _not_in_source(parsed: Parsed, text: str) -> list[str]:
    """The characters beyond ASCII in a quote's verbatim words that the source never uses,
    by code point: a look-alike (a figure dash, a prime, a fullwidth letter) that prints
    as the character the source has explains a miss no word-by-word difference shows."""
    out: list[str] = []
    seen: set[str] = set()
    for piece in parsed.pieces:
        for i, ch in enumerate(piece.text):
            if ch.isascii() or ch in seen:
                continue
            # (A letter whose case may differ, the first or a [x], in any of its cases.)
            if any(c in text for c in (_cases(ch) if i in piece.fold else ch)):
                continue
            seen.add(ch)
            out.append(f"U+{ord(ch):04X} {unicodedata.name(ch, 'UNNAMED')}")
    return out[:5]


_LOOKALIKE_SCRIPTS = {"CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC"}


def _script(ch: str) -> str:
    return unicodedata.name(ch, "UNKNOWN").split(" ")[0]

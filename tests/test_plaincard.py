"""The plain-card reader against the general one: wherever it answers, the same fact.

``plaincard.read`` is a shortcut for the cards most are written as; it must never answer
differently from the general reader (libyaml's composer and the schema), and never answer
for a card that has a problem. Random cards built from the dialect's pieces and from what
lies just outside it (escapes, tabs, indicators, comments, odd indents, nulls, bad ids)
are read both ways; the real cards of the default dossier and the fixtures must all take
the shortcut, so that it is the path they are checked by.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dossier import plaincard, readers
from dossier.schema import STANCES, STATUSES
from dossier.yamlread import decode

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = max(int(os.environ.get("DOSSIER_FUZZ_EXAMPLES", "60")), 400)

T = TypeVar("T")
Pick = Callable[[Sequence[T]], T]

WORDS = [
    "Putin", "gave", "the", "car", "Kim’s", "it's", "“top aides”", "résumé", "😀", "10⁶", "18", "2024",
    "a:b", "x,y", "[1]", "{a}", "#1", "(said)", "--", "—", "…", "...", "Feb.", "e-mail",
]  # fmt: skip
TRICKY = [
    ": ", " #", "#", "- ", "'", '"', "\\", '\\"', "\\\\", "\\n", "  ", "\t", "\r", "\x85", "\u2028", "\xa0",
    "\ufeff", "\x07", "\x9f", "*", "&a", "!x", "%", "@", "`", "?", "|", ">", "[", "]", "{", "}", ",", ":",
]  # fmt: skip
NULLISH = ["null", "Null", "NULL", "~", "", " ", "true", "no", "1.5"]
IDS = ["putin", "kim-jong-un", "part-1", "fact-00001", "source-00206", "a", "x9"]
BAD_IDS = ["Putin", "a_b", "1a", "-a", "a b", "null", "~", "é", "part-1 "]
DATES = [
    "2024",
    "2024-02",
    "2024-02-18",
    "2024-02-30",
    "2024-13",
    "0000",
    "24-02-18",
    "2024-2-18",
    "2024-02-18T08:00",
]


def rare(pick: Pick[bool]) -> bool:
    """True one time in sixteen: most of a card is clean, so that enough whole cards are."""
    return pick([True] + [False] * 15)


def words(pick: Pick[str]) -> str:
    pool = WORDS + TRICKY if rare(pick) else WORDS
    return " ".join(pick(pool) for _ in range(pick([1, 2, 3, 5, 8])))


def scalar(pick: Pick[str], said: str, indent: int) -> list[str]:
    """``said`` written in one of YAML's styles, as the lines after ``key:`` (the first
    joined to the key's line)."""
    if rare(pick):
        return [
            " " + pick([*NULLISH, '"' + said, "'" + said + "''", said + ":", "- " + said, "[" + said + "]"])
        ]
    style = pick(["plain", "plain", "double", "double", "single", "block"])
    if style == "plain":
        return [" " + said + (pick([" ", "  # note"]) if rare(pick) else "")]
    if style == "double":
        return [' "' + said.replace("\\", "\\\\").replace('"', '\\"') + '"' + pick(["", " "])]
    if style == "single":
        return [" '" + said.replace("'", "''") + "'"]
    pad = " " * (indent + pick([1, 2, 2, 4]))
    body = [pad + words(pick) for _ in range(pick([1, 2, 3]))]
    if rare(pick):
        body = [
            line + pick([" ", ""]) if pick([True, False]) else pad + " " + line.lstrip(" ") for line in body
        ]
    if pick([False, True]):
        body.insert(pick([1, len(body)]), pick(["", pad, pad + " "]) if rare(pick) else "")
    return [" " + (pick(["|+", ">2", "| # c", "|-2"]) if rare(pick) else pick(["|", "|-", ">", ">-"])), *body]


def an_id(pick: Pick[str]) -> str:
    return pick(BAD_IDS) if rare(pick) else pick(IDS)


def id_list(pick: Pick[str], indent: int) -> list[str]:
    if rare(pick):
        return [" " + pick(["[a, [b]]", "[a, {b: c}]", "[a,", "[,]", "", "a, b", "[a # b]", "[a, , b]"])]
    ids = [an_id(pick) for _ in range(pick([0, 1, 2, 3]))]
    if not ids or pick([True, True, False]):
        sep = pick([", ", ", ", ",", " , "])
        return [" [" + pick(["", " "]) + sep.join(ids) + pick(["", "", ",", " "]) + "]"]
    lead = " " * pick([indent, indent + 2, indent + 4])
    return ["", *(lead + "-" + pick([" ", " ", "  "]) + i for i in ids)]


def evidence(pick: Pick[object]) -> list[str]:
    lines = [""]
    lead = pick([0, 2, 2, 4])
    for _ in range(pick([1, 1, 2, 3])):
        gap = pick([1, 1, 1, 3])
        col = lead + 1 + gap
        keys = ["source", "quote"] + [k for k in ("stance", "note") if pick([True, False])]
        if rare(pick):
            keys.append(pick(["qoute", "source", "stance", "notes"]))
        if rare(pick):
            keys.remove(pick(["source", "quote"]))
        for n, key in enumerate(keys[::-1] if pick([True, False, False]) else keys):
            if key == "source":
                value = [" " + an_id(pick)]
            elif key == "stance":
                value = [" " + (pick(["refutes", "Supports", "null"]) if rare(pick) else pick(STANCES))]
            else:
                value = scalar(pick, words(pick), col)
            head = (
                " " * lead + "-" + " " * gap if n == 0 else " " * (col + (pick([1, -1]) if rare(pick) else 0))
            )
            lines += [head + key + ":" + value[0], *value[1:]]
    return lines


def card(pick: Pick[object]) -> str:
    """A random card: the usual keys in any order, each in a random style."""
    keys = ["claim", "status", "date", "section", "entities", "tags", "related", "evidence", "notes"]
    chosen = [k for k in keys if k in ("claim", "status", "evidence") or pick([True, False])]
    if rare(pick):
        chosen.remove(pick(["claim", "status", "evidence"]))
    if rare(pick):
        chosen.insert(pick(list(range(len(chosen) + 1))), pick(["qoute", "claim", "Claim", "id"]))
    if pick([True, False, False]):
        rest = list(chosen)
        chosen = [rest.pop(pick(list(range(len(rest))))) for _ in range(len(chosen))]
    lines: list[str] = []
    for key in chosen:
        if key in ("claim", "notes"):
            value = scalar(pick, words(pick), 0)
        elif key == "status":
            value = [" " + (pick(["Confirmed", "maybe", "~"]) if rare(pick) else pick(STATUSES))]
        elif key == "date":
            value = [" " + (pick(DATES[3:]) if rare(pick) else pick(DATES[:3]))]
        elif key == "section":
            value = [" " + an_id(pick)]
        elif key in ("entities", "related"):
            value = id_list(pick, 0)
        elif key == "tags":
            tags = ["sanctions", "un", "human rights", "a.b/c_d"] + (
                ["a:b", "x#y", "null", "it's"] if rare(pick) else []
            )
            value = [" [" + ", ".join(pick(tags) for _ in range(2)) + "]"]
        elif key == "evidence":
            value = evidence(pick)
        else:
            value = scalar(pick, words(pick), 0)
        first = value[0]
        if first.startswith(" ") and rare(pick):
            first = pick(["  ", ""]) + first
        lines += [key + ":" + first, *value[1:]]
    for _ in range(pick([0, 0, 1, 2])):  # comments and blank lines, anywhere
        at = pick(list(range(len(lines) + 1)))
        lines.insert(at, pick(["# reviewed", "  # indented comment", "", "   ", "#", "    # deep"]))
    end = pick(["\n", "\n", "\n", "\r\n"])
    text = end.join(lines) + pick([end, end, "", end + end])
    if rare(pick):
        text = pick(["\ufeff", "---\n", "%YAML 1.1\n---\n", " ", "\t"]) + text
    return text


def both(text: str) -> tuple[object, object]:
    """What each reader makes of ``text`` (as a card file's bytes): the plain reader's fact
    or None, and the general reader's fact and problems."""
    decoded, problems = decode(text.encode("utf-8", "surrogatepass"), "f.yaml")
    assert decoded is not None and not problems
    return plaincard.read(decoded, "f.yaml", "f"), readers.parse_card_text(decoded, "f.yaml", "f")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_plain_reader_agrees_with_the_general_one(data: st.DataObject) -> None:
    text = card(lambda options: data.draw(st.sampled_from(options)))
    plain, general = both(text)
    if plain is not None:
        assert general == (plain, []), text


def test_many_random_cards_take_the_shortcut_and_agree() -> None:
    """The same random cards, seeded: enough of them are plain for the property above to
    bite, and each of those reads the same both ways (the general reader finds no problem
    in any)."""
    rng = random.Random(int(os.environ.get("DOSSIER_PLAINCARD_SEED", "5")))
    plain_count = clean_count = 0
    for _ in range(3000):
        text = card(rng.choice)
        plain, general = both(text)
        assert isinstance(general, tuple)
        clean_count += general[0] is not None and not general[1]
        if plain is not None:
            plain_count += 1
            assert general == (plain, []), text
    assert plain_count >= 300, (plain_count, clean_count)
    assert clean_count >= plain_count


def _cards(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.yaml") if "facts" in p.relative_to(root).parts)


@pytest.mark.parametrize(
    "root", [ROOT / "content", *sorted((ROOT / "tests" / "fixtures").glob("*/"))], ids=lambda p: p.name
)
def test_real_cards_take_the_shortcut(root: Path) -> None:
    """Every clean card of the default dossier and of the fixtures is plain, and reads the
    same both ways; cards with problems (the fixtures' broken ones) are left to the general
    reader."""
    cards = _cards(root)
    if not cards:
        pytest.skip("no fact cards here")
    for path in cards:
        plain, general = both(path.read_text(encoding="utf-8"))
        assert isinstance(general, tuple)
        if general[0] is not None and not general[1]:
            assert plain is not None, path
            assert general == (plain, []), path
        else:
            assert plain is None, path


CARD = """\
# reviewed
claim: Putin gave Kim a car.
status: confirmed
entities: [putin, kim]
evidence:
  - source: s
    quote: "the car"
"""


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("claim: Putin gave Kim a car.", "claim: Putin gave\n  Kim a car."),  # a value over two lines
        ("claim: Putin gave Kim a car.", "claim: Putin gave Kim a car.  # a comment"),
        ("claim: Putin gave Kim a car.", "claim: 'Putin gave Kim a car."),
        ("claim: Putin gave Kim a car.", 'claim: "Putin gave\\tKim a car."'),  # an escape other than \" \\
        ("claim: Putin gave Kim a car.", "claim: |+\n  Putin gave Kim a car."),
        ("claim: Putin gave Kim a car.", "claim: >\n  Putin gave\n    Kim a car."),  # a > line more indented
        ("claim: Putin gave Kim a car.", "claim: null"),
        ("claim: Putin gave Kim a car.", "claim: &a Putin"),
        ("claim: Putin gave Kim a car.", "claim:\tPutin"),
        ("claim: Putin gave Kim a car.", "qoute: Putin gave Kim a car."),
        ("status: confirmed", "status: Confirmed"),
        ("status: confirmed", "status: confirmed\nstatus: confirmed"),
        ("entities: [putin, kim]", "entities: [Putin, kim]"),
        ("entities: [putin, kim]", "entities: [putin, [kim]]"),
        ("entities: [putin, kim]", "entities:\n  - putin\n   - kim"),
        ("  - source: s", "  - source: s\n    stance: refutes"),
        ('    quote: "the car"', '    quote: "the car"\n     note: off by one'),
        ('    quote: "the car"', ""),
        ("# reviewed\n", "---\n"),
    ],
)
def test_outside_the_dialect_the_general_reader_reads(old: str, new: str) -> None:
    text = CARD.replace(old, new)
    assert text != CARD
    assert plaincard.read(text, "f.yaml", "f") is None


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("|\n  one\n\n    two\n  three\n", "one\n\n  two\nthree\n"),
        ("|-\n  one\n  two\n", "one\ntwo"),
        (">\n  one\n  two\n\n  three\n", "one two\nthree\n"),
        (">-\n  one\n\n\n  two\n", "one\n\ntwo"),
        ('"say \\"no\\" \\\\ yes"\n', 'say "no" \\ yes'),
        ("'it''s'\n", "it's"),
        ("words, [1] and x#1, a:b  \n", "words, [1] and x#1, a:b"),
    ],
)
def test_values_read_as_yaml_reads_them(value: str, said: str) -> None:
    text = CARD.replace("claim: Putin gave Kim a car.\n", "claim: " + value)
    plain, general = both(text)
    assert plain is not None and plain.claim == said
    assert general == (plain, [])


def test_windows_line_ends_are_read_as_yaml_reads_them() -> None:
    plain, general = both(CARD.replace("\n", "\r\n"))
    assert plain is not None
    assert general == (plain, [])
    assert plaincard.read(CARD.replace("\n", "\r", 1), "f.yaml", "f") is None  # a lone CR


if __name__ == "__main__":  # pragma: no cover - for a look at what the generator makes
    for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 5):
        print(card(random.choice), end="\n-----\n")


def test_the_characters_outside_the_dialect_are_those_it_does_not_allow() -> None:
    """``_OUTSIDE`` names what is refused; it is the complement, over every code point, of
    what a plain card may hold (a line feed, printable ASCII, and the rest of Unicode but
    for C1 controls, YAML's other line breaks, surrogates, the BOM and noncharacters)."""
    import re

    allowed = re.compile(r"[\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")  # noqa: E501
    every = "".join(map(chr, range(0x110000)))
    outside = set(plaincard._OUTSIDE.findall(every))
    assert outside == set(every) - set(allowed.findall(every))

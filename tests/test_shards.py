"""The cache's sharded dicts: a dict, stored and read back, decoding only what is asked."""

from __future__ import annotations

import marshal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dossier import cache, shards
from dossier.build import build
from dossier.shards import Shards

from .conftest import write
from .test_update import built_once, card, settled  # noqa: F401 (racy cards: none)

keys = st.one_of(
    st.binary(min_size=1, max_size=4),
    st.text(max_size=4),
    st.tuples(st.text(max_size=3), st.text(max_size=2)),
)
ops = st.lists(st.tuples(keys, st.integers()), max_size=40)


@given(first=ops, then=ops, probe=st.lists(keys, max_size=10))
def test_shards_are_a_dict_stored_and_read_back(
    first: list[tuple[object, int]], then: list[tuple[object, int]], probe: list[object]
) -> None:
    model = dict(first)
    stored = Shards.stored(marshal.loads(marshal.dumps(Shards(first).record())))
    assert stored is not None and len(stored) == len(model) and bool(stored) == bool(model)
    for k, v in then:  # edits after reading: only some shards decoded
        stored[k] = v
        model[k] = v
    for k in probe:
        assert stored.get(k) == model.get(k) and (k in stored) == (k in model)
    again = Shards.stored(marshal.loads(marshal.dumps(stored.record())))
    assert again is not None and dict(again.items()) == model and len(again) == len(model)
    assert sorted(map(repr, again)) == sorted(map(repr, model))


def test_a_shard_not_asked_for_is_written_back_as_it_was_read() -> None:
    """(A shard decoded is encoded again: a check that decodes all keeps one copy.)"""
    made = Shards((bytes([i, i]), i) for i in range(200))
    raw, counts = made.record()
    stored = Shards.stored((raw, counts))
    assert stored is not None
    key = bytes([7, 7])
    stored[key] = -1
    raw2, counts2 = stored.record()
    touched = shards.shard_of(key)
    assert [i for i in range(shards.COUNT) if raw2[i] is not raw[i]] == [touched]
    assert counts2 == counts


@pytest.mark.parametrize(
    "record",
    [
        None,
        (),
        ((b"",) * 3, (0,) * 3),
        (("x",) * shards.COUNT, (0,) * shards.COUNT),
        ((b"",) * shards.COUNT, ("0",) * shards.COUNT),
    ],
)
def test_what_is_not_a_shards_record_is_refused(record: object) -> None:
    assert Shards.stored(record) is None


def test_a_damaged_shard_reads_as_empty() -> None:
    raw, counts = Shards([(b"k", 1)]).record()
    i = shards.shard_of(b"k")
    broken = Shards.stored(((*raw[:i], b"\xff\x00garbage", *raw[i + 1 :]), counts))
    assert broken is not None and broken.get(b"k") is None


def test_an_update_decodes_only_the_shards_it_asks_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content, builds = built_once(tmp_path, 40)
    store = cache.load_bytes(cache.dump(builds.store))  # as the next process finds it
    opened: list[int] = []
    real = Shards._shard

    def spy(self: Shards, i: int) -> dict[object, object]:
        if self._open[i] is None:
            opened.append(i)
        return real(self, i)

    monkeypatch.setattr(Shards, "_shard", spy)
    write(content, "facts/f3.yaml", card(3, claim="Claim three, edited.", related=(4,), quote=("wire", 1)))
    assert build(content, tmp_path / "site", cache=store, known=builds.known).recalled is not None
    # the edited card, its neighbours, their quotes: far fewer than every shard of three dicts
    assert 0 < len(opened) < shards.COUNT // 4
    monkeypatch.undo()
    stored = cache.load_bytes(cache.dump(store))
    assert len(stored.cards) == len(builds.store.cards) + 1 > 40  # the new version beside the old
    assert len(stored.entries) == len(builds.store.entries)


def test_a_cache_with_no_quote_matches_keeps_its_cards() -> None:
    """An empty Shards is still a Shards: the check part stands."""
    store = cache.Cache()
    store.cards[("facts/a.yaml", "00")] = b"card"
    store.extracted["ff"] = ("text", ())
    store.used_cards.add(("facts/a.yaml", "00"))
    store.used_extracted.add("ff")
    again = cache.load_bytes(cache.dump(store))
    assert len(again.entries) == 0
    assert again.cards.get(("facts/a.yaml", "00")) == b"card" and again.extracted == {"ff": ("text", ())}


def test_put_says_whether_it_changed_anything() -> None:
    s = Shards()
    assert s.put(b"k", (1, 2)) is True
    assert s.put(b"k", (1, 2)) is False
    assert s.put(b"k", (1, 3)) is True
    assert s.get(b"k") == (1, 3) and len(s) == 1


def test_kept_is_the_items_kept_in_their_own_shards() -> None:
    """What ``kept`` keeps is found where a fresh Shards of the same items finds it, and
    stores as the same record."""
    items = [(f"key {i}", i) for i in range(3000)] + [((b"t%d" % i, "x"), -i) for i in range(500)]
    s = Shards(items)
    kept = s.kept(lambda k, v: v % 3 == 0)
    expected = Shards((k, v) for k, v in items if v % 3 == 0)
    assert dict(kept.items()) == dict(expected.items())
    assert kept.record() == expected.record()
    assert all(kept.get(k) == v for k, v in items if v % 3 == 0)
    assert kept.get("key 1") is None
    assert len(kept) == len(dict(expected.items()))

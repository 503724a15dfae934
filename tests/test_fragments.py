"""Text-fragment links to the original (WICG scroll-to-text-fragment)."""

from __future__ import annotations

import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dossier import quotes
from dossier.generators import _fold_words, _fragment_escape, _primary, text_fragment_url
from dossier.model import Source
from dossier.normalise import normalise_text


def source(text: str, url: str | None = "https://example.org/story") -> Source:
    return Source(
        id="s",
        title="S",
        publisher=None,
        author=None,
        url=url,
        published=None,
        retrieved=None,
        language=None,
        notes=None,
        sha256="0" * 64,
        text=text,
        text_file="s.txt",
        meta_file="s.yaml",
    )


def fragment(text: str, quote: str, url: str | None = "https://example.org/story#top") -> str | None:
    prepared = quotes.Source(text)
    match = quotes.verify(quote, prepared)
    assert isinstance(match, quotes.Match)
    return text_fragment_url(source(text, url), prepared, match)


def test_short_unique_quote_is_one_start_term() -> None:
    assert fragment("He said the plan, sadly, failed.", "the plan, sadly, failed") == (
        "https://example.org/story#:~:text=the%20plan%2C%20sadly%2C%20failed"
    )


def test_dashes_commas_and_ampersands_are_percent_encoded() -> None:
    url = fragment("Rock & roll - the 20-21 event, live.", "Rock & roll - the 20-21 event")
    assert url == "https://example.org/story#:~:text=Rock%20%26%20roll%20%2D%20the%2020%2D21%20event"


def test_long_quote_uses_start_and_end() -> None:
    text = "One two three four five six seven eight nine ten eleven."
    url = fragment(text, "One two three four five six seven eight nine ten")
    assert url == "https://example.org/story#:~:text=One%20two%20three%20four,seven%20eight%20nine%20ten"


def test_ambiguous_start_is_told_by_the_whole_passage() -> None:
    """Its first words stand twice: the quote whole, as one term, stands once."""
    text = "We said the plan is good. Later we said the plan is good and bold and fine and true."
    url = fragment(text, "we said the plan is good and bold and fine")
    assert url == "https://example.org/story#:~:text=we%20said%20the%20plan%20is%20good%20and%20bold%20and%20fine"


def test_a_paragraph_opening_standing_elsewhere_is_told_by_the_whole_passage() -> None:
    """No prefix stands before a paragraph's first words: the passage whole tells it (the
    browser ran from the first paragraph's opening to the second's end)."""
    text = (
        "The envoy said the talks were useful and frank, officials noted.\n\n"
        "The envoy said the talks were useful and frank today.\n"
    )
    url = fragment(text, "The envoy said the talks were useful and frank today")
    assert url == (
        "https://example.org/story#:~:text="
        "The%20envoy%20said%20the%20talks%20were%20useful%20and%20frank%20today"
    )


def test_end_words_grow_until_they_stand_once_in_the_passage() -> None:
    """A browser ends the range at the first end words after the start."""
    text = "Markets fell sharply today; the price rose again, and then the price rose again by noon."
    url = fragment(text, "Markets fell sharply today; the price rose again, and then the price rose again")
    assert url == (
        "https://example.org/story#:~:text=Markets%20fell%20sharply%20today%3B,then%20the%20price%20rose%20again"
    )


def test_omission_spans_start_to_end() -> None:
    text = "The minister said on Monday, after a long meeting, that the bridge would open."
    url = fragment(text, "The minister said ... that the bridge would open")
    assert url == "https://example.org/story#:~:text=The%20minister%20said,the%20bridge%20would%20open"


def test_no_url_no_fragment() -> None:
    assert fragment("a b c d e", "a b c", url=None) is None


@given(st.text())
def test_a_fragment_is_escaped_as_percent_encoding_with_nothing_safe_and_dashes_encoded(text: str) -> None:
    try:
        expected = urllib.parse.quote(text, safe="").replace("-", "%2D")
    except UnicodeEncodeError:  # a lone surrogate: no encoding either way
        with pytest.raises(UnicodeEncodeError):
            _fragment_escape(text)
        return
    assert _fragment_escape(text) == expected


@given(st.text(alphabet=st.characters(max_codepoint=0x7F)) | st.text(" -\t\n\x1cAb\u00e9\u2013\u2026"))
def test_words_fold_as_the_whole_way_folds_them(text: str) -> None:
    """The short way for plain ASCII gives what normalising, lowering and dropping accents
    give (any ASCII, and texts of the characters normalising changes)."""
    assert _fold_words(text) == _primary(normalise_text(text).lower())


# --- as browsers match (a review: the links landed elsewhere, or nowhere) ----------------


def test_start_words_grow_until_they_stand_once() -> None:
    """Prefix and start stood in both paragraphs: the browser took the first, and ran the
    range from there into the second."""
    text = (
        "Yes, officials then said the car was red.\n\n"
        "Yes, officials then said the car was blue, shiny and quite new.\n"
    )
    assert fragment(text, "said the car was blue, shiny and quite new") == (
        "https://example.org/story#:~:text=said%20the%20car%20was%20blue%2C,shiny%20and%20quite%20new"
    )


def test_accents_do_not_tell_two_passages_apart() -> None:
    """A browser compares letters case and accents aside: 'résumé' stands where 'resume' does."""
    text = "At noon the resume of talks was planned.\n\nLater the résumé of talks was planned again.\n"
    assert fragment(text, "the résumé of talks was planned") == (
        "https://example.org/story#:~:text=Later-,the%20r%C3%A9sum%C3%A9%20of%20talks%20was%20planned,-again."
    )


def test_no_term_crosses_a_paragraph() -> None:
    """Each term matches within one block: a quote across two paragraphs is a start and an
    end, and context stops at the paragraph's edge."""
    text = "They thanked Putin warmly.\n\nThe agency reported it on Tuesday.\n"
    assert fragment(text, "thanked Putin warmly. The agency reported") == (
        "https://example.org/story#:~:text=thanked%20Putin%20warmly.,The%20agency%20reported"
    )
    text = (
        "Weak were weak.\n\nThen the leader of the group said the plan is good.\n\n"
        "The leader of the group said no.\n"
    )
    assert fragment(text, "the leader of the group said") == (
        "https://example.org/story#:~:text=Then-,the%20leader%20of%20the%20group%20said,-the%20plan%20is"
    )

"""Table-driven tests of the quote verifier against SPEC §3 ("When a quote counts as found").

Every rule of §3 has at least one case that must be found and one that must not. A case
names the source, the quote, whether it is found and, when it is, the original source text
of every verbatim piece (``Match.spans`` mapped back to the source as written).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from dossier.normalise import OffsetMap, normalise, normalise_text
from dossier.quotes import Match, Miss, Settings, Source, verify

SOURCES = Path(__file__).resolve().parent.parent / "content" / "sources"

DEFAULT = Settings()
#: Small allowances so that the limits can be tested exactly at the boundary.
SMALL = Settings(max_omission=10, max_substitution=6, min_words=3)


#: "There is a shortage in the government." The quote "... in the government less" ends
#: inside the word for shortage (its last letter is a vowel sign, a combining mark).
HINDI = "\u0938\u0930\u0915\u093e\u0930 \u092e\u0947\u0902 \u0915\u092e\u0940 \u0939\u0948\u0964"
HINDI_LESS = "\u0938\u0930\u0915\u093e\u0930 \u092e\u0947\u0902 \u0915\u092e"
HINDI_SHORTAGE = HINDI_LESS + "\u0940"


class Case(NamedTuple):
    id: str
    source: str
    quote: str
    found: bool
    #: The original source text of each verbatim piece (only checked when found).
    matched: tuple[str, ...] | None = None
    settings: Settings = DEFAULT
    #: The Miss code expected when not found.
    code: str = "quote-not-found"
    #: Exact expected (start, end) spans in the original source, when they matter.
    spans: tuple[tuple[int, int], ...] | None = None
    #: Expected warning codes, in order (only checked when not None).
    warnings: tuple[str, ...] | None = None


def yes(id: str, source: str, quote: str, *matched: str, **kw: object) -> Case:
    return Case(id, source, quote, True, matched or None, **kw)  # type: ignore[arg-type]


def no(id: str, source: str, quote: str, **kw: object) -> Case:
    return Case(id, source, quote, False, None, **kw)  # type: ignore[arg-type]


PLAN = "Officials said the plan failed after the vote on Jan. 18, 2024."

CASES: list[Case] = [
    # --- 1. Unicode NFC ----------------------------------------------------------------
    yes("nfc/decomposed-source-composed-quote",
        "Her re\u0301sume\u0301 was long.", "Her résumé was long",
        "Her re\u0301sume\u0301 was long"),
    yes("nfc/composed-source-decomposed-quote",
        "Her résumé was long.", "Her re\u0301sume\u0301 was long",
        "Her résumé was long"),
    yes("nfc/decomposed-A-ring",
        "the A\u030angstrom unit was", "the Ångstrom unit", "the A\u030angstrom unit"),
    yes("nfc/japanese-voiced-kana-decomposed-source",
        "the kana \u304b\u3099 is voiced", "the kana \u304c is voiced",
        "the kana \u304b\u3099 is voiced"),
    yes("nfc/bengali-two-part-vowel-decomposed-source",
        "the syllable \u0995\u09c7\u09be is here", "the syllable \u0995\u09cb is here",
        "the syllable \u0995\u09c7\u09be is here"),
    yes("nfc/tamil-two-part-vowel-decomposed-quote",
        "the syllable \u0b95\u0bca is here", "the syllable \u0b95\u0bc6\u0bbe is here",
        "the syllable \u0b95\u0bca is here"),
    yes("nfc/thai-marks-reordered",
        "the word \u0e01\u0e48\u0e38 is Thai", "the word \u0e01\u0e38\u0e48 is Thai",
        "the word \u0e01\u0e48\u0e38 is Thai"),
    no("nfc/combining-accent-is-not-dropped",
       "Her resume was long.", "Her re\u0301sume\u0301 was long"),
    # --- 2. Format characters dropped --------------------------------------------------
    yes("format/soft-hyphen-in-source",
        "the infor\u00admation was leaked", "the information was leaked",
        "the infor\u00admation was leaked"),
    yes("format/zero-width-space-in-source",
        "the pla\u200bn failed today", "the plan failed", "the pla\u200bn failed"),
    yes("format/zwnj-in-source",
        "the pla\u200cn failed today", "the plan failed", "the pla\u200cn failed"),
    yes("format/zwj-in-source",
        "the pla\u200dn failed today", "the plan failed", "the pla\u200dn failed"),
    yes("format/word-joiner-in-source",
        "the pla\u2060n failed today", "the plan failed", "the pla\u2060n failed"),
    yes("format/bom-at-source-start-not-in-span",
        "\ufeffThe plan failed today", "The plan failed", "The plan failed", spans=((1, 16),)),
    yes("format/bom-inside-source",
        "the plan\ufeff failed today", "the plan failed", "the plan\ufeff failed"),
    yes("format/soft-hyphen-and-zwsp-in-quote",
        "the plan failed today", "the pl\u00adan fai\u200bled", "the plan failed"),
    yes("format/soft-hyphen-before-line-break",
        "the infor\u00ad\nmation was leaked", "the infor mation was",
        "the infor\u00ad\nmation was"),
    no("format/invisible-times-in-quote-is-not-dropped",
       "the plan failed today", "the plan\u2062 failed"),
    no("format/invisible-times-in-source-is-not-dropped",
       "the plan\u2062 failed today", "the plan failed"),
    # --- 3. Whitespace runs ------------------------------------------------------------
    yes("space/nbsp-in-source",
        "the\u00a0plan failed today", "the plan failed", "the\u00a0plan failed"),
    yes("space/narrow-nbsp-and-tab-in-source",
        "the\u202fplan\tfailed today", "the plan failed", "the\u202fplan\tfailed"),
    yes("space/line-breaks-and-run-in-source",
        "the plan\r\n\r\n   failed today", "the plan failed", "the plan\r\n\r\n   failed"),
    yes("space/runs-in-quote",
        "the plan failed today", "the   plan\n\u00a0failed", "the plan failed"),
    yes("space/nbsp-then-space-at-line-end",
        "ties between the two nations.\u00a0\n\nThe gift was", "nations. The gift",
        "nations.\u00a0\n\nThe gift"),
    no("space/space-is-not-a-dash",
       "a New York-based firm said", "New York based firm"),
    no("space/cannot-insert-a-space",
       "the plan failed today", "the plan fail ed"),
    # --- 3. The quote's ends are trimmed -----------------------------------------------
    yes("trim/whitespace-around-quote",
        "the plan failed today", " \u00a0\n the plan failed \n\u00a0", "the plan failed"),
    yes("trim/format-and-space-around-quote",
        "the plan failed today", "\ufeff the plan failed\u200b ", "the plan failed"),
    no("trim/punctuation-is-not-trimmed",
       "the plan failed, he said", "the plan failed."),
    # --- 4. Single quotes and apostrophes fold -----------------------------------------
    yes("single/straight-quote-curly-source",
        "Kim\u2019s plan failed", "Kim's plan failed", "Kim\u2019s plan failed"),
    yes("single/curly-quote-straight-source",
        "Kim's plan failed", "Kim\u2019s plan failed", "Kim's plan failed"),
    yes("single/left-vs-right",
        "Kim\u2019s plan failed", "Kim\u2018s plan failed", "Kim\u2019s plan failed"),
    yes("single/quoted-phrase",
        "he said \u2018the plan failed\u2019 then", "'the plan failed'",
        "\u2018the plan failed\u2019"),
    no("single/backtick-is-not-an-apostrophe",
       "Kim\u2019s plan failed", "Kim`s plan failed"),
    no("single/prime-is-not-an-apostrophe",
       "he was 5\u2032 tall then", "was 5' tall"),
    # --- 4. Double quotes fold ---------------------------------------------------------
    yes("double/curly-source-straight-quote",
        "he said \u201cthe plan failed\u201d today", '"the plan failed"',
        "\u201cthe plan failed\u201d"),
    yes("double/straight-source-curly-quote",
        'he said "the plan failed" today', "\u201cthe plan failed\u201d",
        '"the plan failed"'),
    yes("double/low-quote",
        "er sagte \u201edie Sache ging schief\u201c heute", '"die Sache ging schief"',
        "\u201edie Sache ging schief\u201c"),
    no("double/two-apostrophes-are-not-a-double-quote",
       'he said "the plan failed" today', "''the plan failed''"),
    no("double/guillemets-do-not-fold",
       "il a dit \u00abthe plan failed\u00bb hier", '"the plan failed"'),
    # --- 4. Dashes fold ----------------------------------------------------------------
    yes("dash/en-dash-vs-hyphen",
        "the 2020\u20132021 season was", "the 2020-2021 season", "the 2020\u20132021 season"),
    yes("dash/em-dash-vs-double-hyphen",
        "the plan\u2014which failed\u2014was", "the plan--which failed--was",
        "the plan\u2014which failed\u2014was"),
    yes("dash/non-breaking-hyphen",
        "a Russian\u2011made car was", "a Russian-made car", "a Russian\u2011made car"),
    yes("dash/unicode-hyphen",
        "a Russian\u2010made car was", "a Russian-made car", "a Russian\u2010made car"),
    yes("dash/minus-sign",
        "it fell to \u22125 degrees", "fell to -5 degrees", "fell to \u22125 degrees"),
    yes("dash/run-of-hyphens-vs-em-dash",
        "wait --- what now", "wait \u2014 what now", "wait --- what now"),
    yes("dash/mixed-run",
        "wait \u2014\u2013 what now", "wait -- what now", "wait \u2014\u2013 what now"),
    no("dash/tilde-is-not-a-dash",
       "the 2020\u20132021 season was", "the 2020~2021 season"),
    no("dash/spaces-around-dash-do-not-fold",
       "the plan\u2014which failed\u2014was", "the plan - which failed"),
    # --- 4. Ellipsis ---------------------------------------------------------------------
    yes("ellipsis/source-ellipsis-char-quote-dots",
        "he paused\u2026 then he spoke", "he paused... then he spoke",
        "he paused", "then he spoke"),
    yes("ellipsis/source-dots-quote-ellipsis-char",
        "he paused... then he spoke", "he paused\u2026 then he spoke",
        "he paused", "then he spoke"),
    no("ellipsis/two-dots-are-not-an-ellipsis",
       "he paused\u2026 then he spoke", "he paused.. then he spoke"),
    # --- 5. No NFKC ----------------------------------------------------------------------
    yes("nfkc/superscript-verbatim", "about 10\u2076 cells were", "about 10\u2076 cells",
        "about 10\u2076 cells"),
    no("nfkc/superscript-is-not-a-digit", "about 10\u2076 cells were", "about 106 cells"),
    no("nfkc/ligature-is-not-letters", "the \ufb01nal plan was", "the final plan"),
    no("nfkc/fullwidth-is-not-ascii", "the \uff50lan failed today", "the plan failed"),
    # --- 5. No accent stripping ----------------------------------------------------------
    yes("accent/same-accents", "her résumé was long", "her résumé was", "her résumé was"),
    no("accent/resume-is-not-resume-accented", "her résumé was long", "her resume was"),
    no("accent/accented-quote-plain-source", "her resume was long", "her résumé was"),
    # --- 5. No deleting spaces -----------------------------------------------------------
    yes("spaces/not-able", "he was not able to go", "was not able", "was not able"),
    no("spaces/notable-is-not-not-able", "he was not able to go", "was notable to"),
    no("spaces/not-able-is-not-notable", "he was notable to go", "was not able to"),
    # --- 5. Case ---------------------------------------------------------------------------
    yes("case/cmos-capital-first-letter",
        "he said the plan failed", "The plan failed", "the plan failed"),
    yes("case/cmos-lower-first-letter",
        "The plan failed today", "the plan failed", "The plan failed"),
    yes("case/first-letter-after-leading-omission",
        "he said the plan failed", "... The plan failed", "the plan failed"),
    no("case/second-word-case-differs", "he said the plan failed", "the Plan failed"),
    no("case/all-caps", "he said the plan failed", "THE PLAN FAILED"),
    no("case/inner-word-first-letter", "he said the plan failed", "said The plan"),
    # --- 5. Look-alike letters from other scripts ----------------------------------------
    yes("script/cyrillic-matches-cyrillic",
        "\u041f\u0443\u0442\u0438\u043d \u0441\u043a\u0430\u0437\u0430\u043b \u044d\u0442\u043e",
        "\u041f\u0443\u0442\u0438\u043d \u0441\u043a\u0430\u0437\u0430\u043b \u044d\u0442\u043e",
        "\u041f\u0443\u0442\u0438\u043d \u0441\u043a\u0430\u0437\u0430\u043b \u044d\u0442\u043e"),
    no("script/cyrillic-a-in-quote", "the plan failed today", "the pl\u0430n failed"),
    no("script/cyrillic-o-in-source", "the pl\u043en failed", "the plon failed"),
    no("script/greek-omicron", "the plan of old", "the plan \u03bff"),
    # --- 5. Digits and other punctuation exact -------------------------------------------
    yes("exact/digits-and-punctuation", PLAN, "the vote on Jan. 18, 2024",
        "the vote on Jan. 18, 2024"),
    no("exact/different-digit", PLAN, "the vote on Jan. 19, 2024"),
    no("exact/comma-vs-period", PLAN, "the vote on Jan, 18, 2024"),
    no("exact/semicolon-vs-comma", PLAN, "on Jan. 18; 2024"),
    no("exact/arabic-indic-digits", PLAN, "on Jan. \u0661\u0668, 2024"),
    # --- Omissions -------------------------------------------------------------------------
    yes("omission/three-dots", PLAN, "Officials said ... failed after the vote",
        "Officials said", "failed after the vote"),
    yes("omission/ellipsis-char", PLAN, "Officials said \u2026 failed after the vote",
        "Officials said", "failed after the vote"),
    yes("omission/bracketed-dots", PLAN, "Officials said [...] failed after the vote",
        "Officials said", "failed after the vote"),
    yes("omission/bracketed-ellipsis-char", PLAN, "Officials said [\u2026] failed after",
        "Officials said", "failed after"),
    yes("omission/several", PLAN, "Officials ... the plan ... on Jan. 18",
        "Officials", "the plan", "on Jan. 18"),
    yes("omission/leading-and-trailing", PLAN, "... said the plan ...", "said the plan"),
    yes("omission/nothing-skipped", PLAN, "said the ... plan failed", "said the", "plan failed"),
    no("omission/pieces-out-of-order", PLAN, "failed after ... Officials said"),
    yes("omission/skip-exactly-max",
        "we said the plan abcdefghij failed in the end", "the plan ... failed in",
        "the plan", "failed in", settings=SMALL),
    no("omission/skip-max-plus-one",
       "we said the plan abcdefghijk failed in the end", "the plan ... failed in",
       settings=SMALL),
    yes("omission/skip-exactly-max-with-spaces",
        "we said the plan ab cd ef g failed in the end", "the plan ... failed in",
        "the plan", "failed in", settings=SMALL),
    no("omission/skip-max-plus-one-with-spaces",
       "we said the plan ab cd ef gh failed in the end", "the plan ... failed in",
       settings=SMALL),
    yes("omission/skip-counts-normalised-chars",
        "we said the plan ab\u00a0\u00a0cd\u00adef\n\ngh failed in", "the plan ... failed in",
        "the plan", "failed in", settings=SMALL),
    yes("omission/bracketed-at-max",
        "we said the plan abcdefghij failed in the end", "the plan [\u2026] failed in",
        "the plan", "failed in", settings=SMALL),
    no("omission/bracketed-at-max-plus-one",
       "we said the plan abcdefghijk failed in the end", "the plan [...] failed in",
       settings=SMALL),
    # --- [sic] -------------------------------------------------------------------------------
    yes("sic/lower", "he would recieve the parcel", "would recieve [sic] the parcel",
        "would recieve the parcel"),
    yes("sic/upper", "he would recieve the parcel", "would recieve [SIC] the parcel",
        "would recieve the parcel"),
    yes("sic/title", "he would recieve the parcel", "would recieve [Sic] the parcel",
        "would recieve the parcel"),
    yes("sic/at-end", "he would recieve the parcel", "he would recieve [sic]",
        "he would recieve"),
    yes("sic/before-punctuation", "he would recieve, not send, the parcel",
        "would recieve [sic], not send", "would recieve, not send"),
    no("sic/is-not-a-substitution", "he would receive the parcel", "he would [sic] the parcel"),
    # --- [x] ---------------------------------------------------------------------------------
    yes("letter/lower-for-upper", "The gift was a car", "[t]he gift was", "The gift was"),
    yes("letter/upper-for-lower", "he said the gift was a car", "[T]he gift was",
        "the gift was"),
    yes("letter/mid-quote-upper", "he said the gift was a car", "said [T]he gift",
        "said the gift"),
    yes("letter/mid-quote-lower", "he said The gift was a car", "said [t]he gift",
        "said The gift"),
    no("letter/different-letter", "he said the gift was a car", "said [s]he gift"),
    no("letter/stands-for-one-letter-only", "he said the gift was a car", "said [t]e gift was"),
    # --- [other words] -----------------------------------------------------------------------
    yes("subst/replaces-words", "the old scheme failed badly", "the [proposal] failed badly",
        "the", "failed badly"),
    yes("subst/exactly-max", "the scheme failed badly", "the [it] failed badly",
        "the", "failed badly", settings=SMALL),
    no("subst/max-plus-one", "the schemes failed badly", "the [it] failed badly",
       settings=SMALL),
    yes("subst/max-with-space", "the ab cde failed badly", "the [it] failed badly",
        "the", "failed badly", settings=SMALL),
    no("subst/stands-for-at-least-one-char", "we said the plan failed",
       "we said [it] the plan failed"),
    yes("subst/leading", "Putin said the plan failed", "[He] said the plan",
        "said the plan"),
    yes("subst/trailing", "he said the plan failed", "he said the [scheme]",
        "he said the"),
    # --- Word boundaries ---------------------------------------------------------------------
    yes("boundary/whole-number", "it was on Jan. 18 that", "was on Jan. 18", "was on Jan. 18"),
    no("boundary/number-prefix", "it was on Jan. 18 that", "was on Jan. 1"),
    no("boundary/piece-starts-mid-word", "the plan failed today", "lan failed today"),
    no("boundary/piece-ends-mid-word", "the plan failed today", "the plan fail"),
    no("boundary/piece-after-omission-starts-mid-word", "the plan failed today",
       "the ... lan failed today"),
    no("boundary/piece-before-omission-ends-mid-word", "the planning failed today",
       "the plan ... failed today"),
    yes("boundary/punctuation-edge-is-fine", "on Jan. 18, 2024, he left",
        "Jan. 18, 2024,", "Jan. 18, 2024,"),
    # --- min_words ---------------------------------------------------------------------------
    yes("words/three-is-enough", "he said the plan failed", "said the plan", "said the plan"),
    yes("words/three-across-omission", "he said the plan failed", "said ... plan failed",
        "said", "plan failed"),
    no("words/two-is-too-short", "he said the plan failed", "the plan", code="quote-too-short"),
    no("words/substitution-does-not-count", "he said the plan failed", "the [plan] failed",
       code="quote-too-short"),
    no("words/sic-does-not-count", "he said the plan failed", "the plan [sic]",
       code="quote-too-short"),
    yes("words/min-words-one", "he said the plan failed", "plan", "plan",
        settings=Settings(min_words=1)),
    # --- Earliest valid placement ------------------------------------------------------------
    yes("earliest/first-of-two", "the plan failed. Later the plan failed again.",
        "the plan failed", "the plan failed", spans=((0, 15),)),
    yes("earliest/first-of-two-case-folded", "The plan failed. Later the plan failed again.",
        "the plan failed", "The plan failed", spans=((0, 15),)),
    yes("earliest/first-cannot-complete",
        "the plan stalled for weeks. the plan failed badly", "the plan ... failed badly",
        "the plan", "failed badly", settings=SMALL, spans=((28, 36), (37, 49))),
    yes("earliest/second-piece-earliest-after-first",
        "the plan failed badly, failed badly", "the plan ... failed badly",
        "the plan", "failed badly", spans=((0, 8), (9, 21))),
    # --- Warnings ------------------------------------------------------------------------------
    yes("warn/negation-not", "the plan did not fail in the end", "the plan ... fail in the end",
        "the plan", "fail in the end", warnings=("omission-drops-negation",)),
    yes("warn/negation-nt", "the plan didn\u2019t fail in the end",
        "the plan ... fail in the end", "the plan", "fail in the end",
        warnings=("omission-drops-negation",)),
    yes("warn/negation-never", "the plan never failed at all", "the plan ... failed at all",
        "the plan", "failed at all", warnings=("omission-drops-negation",)),
    yes("warn/negation-without", "he left without paying the bill", "he left ... paying the",
        "he left", "paying the", warnings=("omission-drops-negation",)),
    yes("warn/negation-no", "there was no money for the plan", "there was ... money for the",
        "there was", "money for the", warnings=("omission-drops-negation",)),
    yes("warn/number", "the plan cost 300 million dollars", "the plan cost ... million dollars",
        "the plan cost", "million dollars", warnings=("omission-drops-number",)),
    yes("warn/negation-and-number", "the plan did not cost 300 dollars in all",
        "the plan ... dollars in all", "the plan", "dollars in all",
        warnings=("omission-drops-negation", "omission-drops-number")),
    yes("warn/none-for-harmless-skip", "the plan, it seems, failed badly",
        "the plan ... failed badly", "the plan", "failed badly", warnings=()),
    yes("warn/none-for-leading-and-trailing-omission", "not 3 of the plan failed, not 4",
        "... of the plan failed ...", "of the plan failed", warnings=()),
    yes("warn/none-for-notable", "the plan, a notable effort, failed badly",
        "the plan ... failed badly", "the plan", "failed badly", warnings=()),
    yes("warn/negation-in-an-omission-beside-a-substitution",
        "Putin did not give Kim a Russian-made car", "Putin ... [Kim] a Russian-made car",
        "Putin", "a Russian-made car", warnings=("omission-drops-negation",)),
    yes("warn/number-in-a-substitution-beside-an-omission",
        "Putin gave Kim 5 cars and a tank", "Putin gave [...] [him] cars and a tank",
        "Putin gave", "cars and a tank", warnings=("omission-drops-number",)),
    yes("warn/none-for-a-substitution-alone", "Putin gave him 5 cars and a tank",
        "Putin gave [Kim] 5 cars and a tank", "Putin gave", "5 cars and a tank", warnings=()),
    yes("warn/substitution-drops-a-negation", "Officials said he did not approve the plan",
        "Officials said he [approved] the plan", "Officials said he", "the plan",
        warnings=("substitution-drops-negation",)),
    yes("warn/substitution-adds-a-negation", "Officials said he approved the plan",
        "Officials said he [did not approve] the plan", "Officials said he", "the plan",
        warnings=("substitution-adds-negation",)),
    yes("warn/substitution-beside-an-omission-adds-a-negation", "Officials said he approved the plan",
        "Officials said he [did not approve] ... the plan", "Officials said he", "the plan",
        warnings=("substitution-adds-negation",)),
    yes("warn/substitution-keeps-the-negation", "Officials said he did not approve the plan",
        "Officials said he [did not back] the plan", "Officials said he", "the plan", warnings=()),
    yes("warn/substitution-drops-a-number", "Officials said 12 people died in the blast",
        "Officials said [many] people died in the blast", "Officials said",
        "people died in the blast", warnings=("substitution-drops-number",)),
    yes("warn/substitution-changes-a-number", "Officials said 12 people died in the blast",
        "Officials said [21] people died in the blast", "Officials said",
        "people died in the blast", warnings=("substitution-drops-number",)),
    yes("warn/substitution-keeps-the-number", "Officials said twelve people died in the blast",
        "Officials said [Twelve] people died in the blast", "Officials said",
        "people died in the blast", warnings=()),
    yes("warn/substitution-spells-the-number-out", "Officials said 12 people died in the blast",
        "Officials said [twelve] people died in the blast", "Officials said",
        "people died in the blast", warnings=()),
    yes("warn/substitution-moves-the-decimal-point", "They paid 1.5 million dollars for the car",
        "They paid [15 million] dollars for the car", "They paid", "dollars for the car",
        warnings=("substitution-drops-number",)),
    yes("warn/substitution-reorders-and-adds-numbers", "He won 5 medals and 3 cups in May",
        "He won [3 cups and 5 medals in 2020] in May", "He won", "in May", warnings=()),
    yes("warn/substitution-for-one-the-pronoun", "Officials said no one of them had left the city",
        "Officials said [nobody] had left the city", "Officials said", "had left the city",
        warnings=()),
    yes("warn/substitutions-in-a-row-keep-the-negation", "He did not approve the plan at all",
        "He [did not] [approve] the plan at all", "He", "the plan at all", warnings=()),
    # --- A combining mark belongs to the word it follows -------------------------------------
    no("boundary/devanagari-vowel-sign-ends-no-word", HINDI, HINDI_LESS),
    yes("boundary/devanagari-whole-word", HINDI, HINDI_SHORTAGE, HINDI_SHORTAGE),
    no("boundary/combining-macron-after-the-last-letter", "the quote ends in x\u0304yz today",
       "the quote ends in x"),
    no("boundary/combining-mark-before-the-first-letter", "the max\u0304n said the plan failed",
       "n said the plan"),
    # --- The first letter in any case --------------------------------------------------------
    no("case/no-fold-after-a-leading-substitution", "Putin gave Kim Jong Un a car",
       "[He] Gave Kim Jong Un"),
    yes("case/the-substitution-itself-may-be-capitalised", "Putin gave Kim Jong Un a car",
        "[He] gave Kim Jong Un", "gave Kim Jong Un"),
    yes("case/titlecase-first-letter-as-written", "\u01c5amonja said the plan failed",
        "\u01c5amonja said the plan", "\u01c5amonja said the plan"),
    yes("case/titlecase-first-letter-lowered", "after \u01c6amonja said the plan failed",
        "\u01c5amonja said the plan", "\u01c6amonja said the plan"),
    # --- Spans map back to the original text ---------------------------------------------------
    yes("spans/curly-quotes-nbsp-line-break",
        "He said, \u201cthe\u00a0plan\r\nfailed\u201d today.", '"the plan failed"',
        "\u201cthe\u00a0plan\r\nfailed\u201d", spans=((9, 27),)),
    yes("spans/decomposed-soft-hyphen-ellipsis-runs",
        "Intro\u2026  the re\u0301su\u00adme\u0301\u00a0\u00a0was  long\u2014very long.",
        "the résumé was long-very", "the re\u0301su\u00adme\u0301\u00a0\u00a0was  long\u2014very"),
    yes("spans/pieces-over-messy-text",
        "A\u00a0\u00a0b\u2019s   c\n\nd \u201ce\u201d f\u2014g h",
        "b's c ... \"e\" f--g", "b\u2019s   c", "\u201ce\u201d f\u2014g"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_verify_table(case: Case) -> None:
    source = Source(case.source)
    result = verify(case.quote, source, case.settings)
    if not case.found:
        assert isinstance(result, Miss), f"expected a miss, got {result!r}"
        assert result.code == case.code
        return
    assert isinstance(result, Match), f"expected a match, got {result!r}"
    if case.matched is not None:
        got = tuple(case.source[s:e] for s, e in result.spans)
        assert got == case.matched
    if case.spans is not None:
        assert result.spans == case.spans
    if case.warnings is not None:
        assert tuple(code for code, _ in result.warnings) == case.warnings
    # Spans are ordered, non-overlapping and inside the text.
    ends = [0, *(x for span in result.spans for x in span)]
    assert ends == sorted(ends)
    assert result.spans[-1][1] <= len(case.source)


def test_cases_have_unique_ids() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


# --- a miss explains itself ------------------------------------------------------------


def _miss(quote: str, source: Source | str, settings: Settings = DEFAULT) -> Miss:
    src = source if isinstance(source, Source) else Source(source)
    result = verify(quote, src, settings)
    assert isinstance(result, Miss), f"expected a miss, got {result!r}"
    return result


MULTILINE = (
    "A headline\n"
    "\n"
    "The gift was handed over on Jan. 18, the North\u2019s state-run agency said.\u00a0\n"
    "\n"
    "Another paragraph about something else entirely.\n"
)


def test_nearest_reports_word_difference_and_line() -> None:
    miss = _miss("handed over on Feb. 18, the North's state-run", MULTILINE)
    assert miss.code == "quote-not-found"
    assert miss.nearest is not None
    assert miss.nearest.line == 3
    assert "quote has 'Feb.', source has 'Jan.'" in miss.nearest.differences
    assert "handed over on Jan. 18" in miss.nearest.text
    assert MULTILINE[miss.nearest.start : miss.nearest.end].startswith("handed over")


def test_nearest_in_real_source() -> None:
    text = (SOURCES / "luxurious-car-gift.txt").read_text(encoding="utf-8")
    quote = "the leader's powerful sister Kim Yo Jong on Feb. 18, the North's state-run"
    miss = _miss(quote, text)
    assert miss.nearest is not None
    assert "quote has 'Feb.', source has 'Jan.'" in miss.nearest.differences
    line = text.count("\n", 0, text.index("powerful sister")) + 1
    assert miss.nearest.line == line
    assert "Jan. 18" in miss.nearest.text


def test_nearest_reports_a_digit_difference() -> None:
    miss = _miss("was on Jan. 1 that", "it was on Jan. 18 that")
    assert miss.nearest is not None
    assert "quote has '1', source has '18'" in miss.nearest.differences


def test_nearest_reports_a_case_only_difference() -> None:
    # §3: the miss is explained by "the words that differ"; here only the case differs.
    miss = _miss("the Plan failed", "he said the plan failed")
    assert miss.nearest is not None
    assert any("Plan" in d for d in miss.nearest.differences), miss.nearest.differences


def test_nearest_reports_a_punctuation_only_difference() -> None:
    # §3: "digits and other punctuation must match exactly"; the miss should say where.
    miss = _miss("the vote on Jan, 18, 2024", PLAN)
    assert miss.nearest is not None
    assert any("Jan," in d for d in miss.nearest.differences), miss.nearest.differences


def test_suspicious_cyrillic_letter_inside_a_word() -> None:
    miss = _miss("the pl\u0430n failed", "the plan failed today")
    assert any(s.startswith("U+0430") for s in miss.suspicious), miss.suspicious
    assert "U+0430" in miss.message


def test_suspicious_standalone_cyrillic_lookalike() -> None:
    # A lone Cyrillic "а" in an English quote is a look-alike too.
    miss = _miss("he bought \u0430 car", "he bought a car")
    assert any(s.startswith("U+0430") for s in miss.suspicious), miss.suspicious


def test_suspicious_invisible_times() -> None:
    miss = _miss("the plan\u2062 failed", "the plan failed today")
    assert any(s.startswith("U+2062") for s in miss.suspicious), miss.suspicious


def test_no_suspicious_characters_in_a_plain_miss() -> None:
    miss = _miss("the plan succeeded", "the plan failed today")
    assert miss.suspicious == ()


def test_too_short_names_the_count() -> None:
    miss = _miss("the plan", "he said the plan failed")
    assert miss.code == "quote-too-short"
    assert "2" in miss.message


def test_source_can_be_reused() -> None:
    source = Source(PLAN)
    assert isinstance(verify("said the plan", source, DEFAULT), Match)
    assert isinstance(verify("said the scheme", source, DEFAULT), Miss)
    assert isinstance(verify("the plan failed", source, DEFAULT), Match)


def test_real_source_quote_with_curly_apostrophes() -> None:
    text = (SOURCES / "luxurious-car-gift.txt").read_text(encoding="utf-8")
    quote = (
        "handed over to Workers' Party Secretary Park Chung Chol and the leader's powerful sister"
    )
    result = verify(quote, Source(text), DEFAULT)
    assert isinstance(result, Match)
    (start, end), = result.spans
    assert text[start:end] == quote.replace("'", "\u2019")


# --- the normaliser and its offset map -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a\u00a0\u00a0b", "a b", id="nbsp-run"),
        pytest.param("a\r\n\tb", "a b", id="line-break-run"),
        pytest.param("e\u0301t\u00e9", "\u00e9t\u00e9", id="nfc"),
        pytest.param("a\u00adb\u200bc\u200cd\u200de\u2060f\ufeffg", "abcdefg", id="format"),
        pytest.param("x\u2026y", "x...y", id="ellipsis"),
        pytest.param("\u2018a\u2019 \u201cb\u201d \u201ec\u201c", "'a' \"b\" \"c\"", id="quotes"),
        pytest.param("a\u2014\u2013b c--d e\u2212f g\u2011h", "a-b c-d e-f g-h", id="dashes"),
        pytest.param("a \u00ad b", "a b", id="space-format-space"),
        pytest.param("a-\u00ad-b", "a-b", id="format-inside-dash-run"),
        pytest.param("10\u2076 \ufb01", "10\u2076 \ufb01", id="no-nfkc"),
        pytest.param("r\u00e9sum\u00e9 ABC", "r\u00e9sum\u00e9 ABC", id="no-accent-or-case-fold"),
    ],
)
def test_normalise_text(text: str, expected: str) -> None:
    assert normalise(text).text == expected


def test_normalise_text_trims_quote_ends() -> None:
    assert normalise_text(" \u00a0\n the plan \u200b\n") == "the plan"


@pytest.mark.parametrize(
    ("text", "nspan", "original"),
    [
        pytest.param("a\u00a0\u00a0b", (2, 3), "b", id="after-run"),
        pytest.param("a\u00a0\u00a0b", (0, 3), "a\u00a0\u00a0b", id="over-run"),
        pytest.param("e\u0301t\u00e9", (0, 1), "e\u0301", id="nfc-first"),
        pytest.param("e\u0301te\u0301x", (1, 3), "te\u0301", id="nfc-inner"),
        pytest.param("x\u2026y", (1, 4), "\u2026", id="ellipsis-whole"),
        pytest.param("x\u2026y", (4, 5), "y", id="after-ellipsis"),
        pytest.param("a\u00adb", (1, 2), "b", id="after-soft-hyphen"),
        pytest.param("a\u00adb", (0, 2), "a\u00adb", id="over-soft-hyphen"),
        pytest.param("a\u00adb", (0, 1), "a", id="before-soft-hyphen"),
        pytest.param("x--y z", (2, 3), "y", id="after-dash-run"),
        pytest.param("\ufeffabc", (0, 3), "abc", id="leading-bom"),
        pytest.param(
            "A\u0301\u00a0\u00a0B\u2026C\u00adD\n\nE", (0, 10),
            "A\u0301\u00a0\u00a0B\u2026C\u00adD\n\nE", id="mixed-all",
        ),
        pytest.param(
            "A\u0301\u00a0\u00a0B\u2026C\u00adD\n\nE", (6, 7), "C", id="mixed-C",
        ),
        pytest.param(
            "A\u0301\u00a0\u00a0B\u2026C\u00adD\n\nE", (7, 10), "D\n\nE", id="mixed-D-E",
        ),
    ],
)
def test_to_original(text: str, nspan: tuple[int, int], original: str) -> None:
    norm = normalise(text)
    s, e = norm.to_original(*nspan)
    assert text[s:e] == original


def test_offset_map_directly() -> None:
    # "a   b" -> "a b": one edit at new offset 1, old offset 1, new length 1, old length 3.
    m = OffsetMap.of([(1, 1, 1, 3)])
    assert m.start(0) == 0
    assert m.start(1) == 1
    assert m.start(2) == 4
    assert m.end(1) == 1
    assert m.end(2) == 4
    assert m.end(3) == 5
    # An empty map is the identity.
    empty = OffsetMap.of([])
    assert [empty.start(i) for i in range(4)] == [0, 1, 2, 3]
    assert [empty.end(i) for i in range(4)] == [0, 1, 2, 3]


def test_offset_map_deletion() -> None:
    # "ab\u00adc" -> "abc": a deletion at new offset 2 (old offset 2, old length 1).
    m = OffsetMap.of([(2, 2, 0, 1)])
    assert m.start(2) == 3  # "c" starts after the soft hyphen
    assert m.end(2) == 2  # a span ending before the deletion does not take it in
    assert m.end(3) == 4


def test_normalised_offsets_are_stable_for_clean_text() -> None:
    text = "A plain ASCII sentence, nothing to fold."
    norm = normalise(text)
    assert norm.text == text
    assert norm.to_original(2, 7) == (2, 7)

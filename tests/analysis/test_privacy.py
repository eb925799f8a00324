"""What a trustee is shown of the compared figures and of free text."""

import math

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.privacy import hide_small, mask_counts, mask_small


def frame(counts, indicator="online_concerns", base=1000.0):
    return pd.DataFrame({
        "urn": [f"10000{i}" for i in range(len(counts))], "academic_year": "2025/26", "term": "Spring",
        "term_index": 6076, "indicator": indicator, "numerator": [float(c) for c in counts],
        "denominator": base, "value": [c / base * 100 for c in counts], "trust": 1.0, "position": "within",
    })


def test_small_counts_and_their_rates_are_hidden_with_a_second_cell_to_protect_the_total():
    out = hide_small(frame([3, 12, 20, 0]), threshold=5).set_index("urn")
    assert out.loc["100000", "numerator_note"] == "fewer than 5" and math.isnan(out.loc["100000", "value"])
    assert out.loc["100003", "numerator"] == 0  # a 0 tells nobody about a child
    assert out["hidden"].sum() == 2 and out.loc["100001", "numerator_note"] == "not shown"
    assert out.loc["100002", "numerator"] == 20


def test_staff_counts_are_not_children_and_stay():
    out = hide_small(frame([3, 12, 20], indicator="training_prevent", base=40.0), threshold=5)
    assert not out["hidden"].any()


def test_changes_next_to_a_hidden_term_are_not_shown():
    now, before = frame([3, 12, 20]), frame([8, 12, 20]).assign(term_index=6075)
    out = hide_small(pd.concat([before, now], ignore_index=True), threshold=5)
    row = out[(out["urn"] == "100000") & (out["term_index"] == 6076)].iloc[0]
    assert math.isnan(row["change_term"])


def test_free_text_keeps_its_words_but_not_small_counts():
    text = "Suspended is 12, last term 3. B7 has 4 pupils in 2025/26; 0 excluded; 10% up."
    assert mask_small(text, 5) == ("Suspended is 12, last term fewer than 5. B7 has fewer than 5 pupils in "
                                   "2025/26; 0 excluded; 10% up.")


def test_a_trust_figure_made_from_one_hidden_school_is_not_shown():
    """The only school with any permanent exclusions has 2: the trust's rate times its pupils
    would give the 2 back, so the trust figure goes too (counted on the real numbers)."""
    out = hide_small(frame([2, 0, 0, 0], indicator="online_concerns"), threshold=5)
    assert out["trust"].isna().all() and out["numerator"].isna().sum() == 1


def test_a_trust_total_that_is_all_that_protects_a_count_is_not_shown():
    """1 and 5: the 5 is hidden beside the 1, but a total of 6 from "fewer than 5" and "not shown"
    (5 or more) can only be 1 + 5, and nothing is left to hide, so the trust figure goes."""
    out = hide_small(frame([1, 5, 0]), threshold=5)
    assert out["numerator"].isna().sum() == 2 and out["trust"].isna().all()
    protected = hide_small(frame([3, 40, 0]), threshold=5)  # 43 could be 1 + 42 ... 4 + 39
    assert protected["numerator"].isna().sum() == 2 and protected["trust"].notna().all()
    large = hide_small(frame([30, 40, 50]), threshold=5)
    assert large["trust"].notna().all()  # nothing small: the trust figure stays


SMALL_SPELLINGS = {
    1: ["1", "one", "One"], 2: ["2", "two", "Two"], 3: ["3", "three", "Three"], 4: ["4", "four", "Four"],
}
SAFE = ["pupils", "were", "seen", "on", "14/01/2026", "2025/26", "B7", "10%", "12", "1,250", "10:30", "2.5",
        "Year 3", "three times", "Y10", "3rd", "no one", "0", "2026-03-01"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(
    st.sampled_from(SAFE).map(lambda w: (w, w)),
    st.tuples(st.integers(1, 4), st.sampled_from(["{}", "{},", "({})", "{}.", "{}-{}", "{}/{}"]),
              st.integers(0, 2)).map(lambda p: _spelt(*p)),
), min_size=1, max_size=12))
def test_masked_free_text_keeps_no_count_from_1_to_4_in_any_spelling(tokens):
    text = " ".join(given_ for given_, _ in tokens)
    assert mask_small(text, 5) == " ".join(expected for _, expected in tokens)


def _spelt(n: int, shape: str, spelling: int) -> tuple[str, str]:
    word = SMALL_SPELLINGS[n][spelling] if shape == "{}" else str(n)
    given_ = shape.format(word, n % 4 + 1) if "-" in shape or "/" in shape else shape.format(word)
    hidden = "Fewer than 5" if word[0].isupper() else "fewer than 5"
    return given_, shape.format(hidden) if "-" not in shape and "/" not in shape else hidden


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="ascii", exclude_categories=("Cc",)), max_size=80))
def test_no_small_count_survives_in_any_text(text):
    masked = mask_small(text, 5)
    for token in masked.split():
        bare = token.strip("().,;:!?\"'[]{}")
        assert bare.lower() not in {"1", "2", "3", "4", "one", "two", "three", "four"} or _allowed(masked, token)


def _allowed(text: str, token: str) -> bool:
    """Left alone on purpose: a multiplier ("3 times"), a year group ("Year 3"), "no one", a
    decimal written without its 0 (".1")."""
    if token.lstrip("([{\"'").startswith("."):
        return True
    i = text.split().index(token)
    words = text.split()
    after = words[i + 1].lower() if i + 1 < len(words) else ""
    before = words[i - 1].lower() if i else ""
    return after.startswith(("times", "x")) or before in ("year", "stage", "no") or \
        (token.lower().startswith("one") and after in ("another", "to"))


def test_the_funnel_limits_at_a_hidden_base_are_not_kept():
    """The limits at a school are worked out from its base: with the base hidden they would give
    it back, so they go with it (and with a hidden trust figure)."""
    from analysis.compare import compare

    rows = frame([2, 6, 20, 30], indicator="neglect_chronology", base=1.0)
    rows["denominator"] = [3.0, 7.0, 25.0, 40.0]  # 3 flagged children, 2 of them reviewed
    rows["value"] = rows["numerator"] / rows["denominator"]
    compared = compare(rows.drop(columns=["trust", "position"]))
    out = hide_small(compared, threshold=5).set_index("urn")
    hidden = out["denominator"].isna()
    assert hidden.any()
    for column in ("expected", "lower_95", "upper_95", "lower_998", "upper_998"):
        assert out.loc[hidden, column].isna().all(), column
        assert out.loc[~hidden & out["trust"].notna(), column].notna().all(), column


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.integers(1, 400).map(str), st.sampled_from(["children", "were", "7,", "(12)", "3-9",
                                                                           "2025/26", "10%", "2.5", "no one"])),
                min_size=1, max_size=10))
def test_free_text_for_a_trustee_keeps_no_count_at_all(tokens):
    """A table may hide a 7 to protect a 2: text about the same cell must not give the 7 back."""
    import re

    masked = mask_counts(" ".join(tokens), 5)
    left = re.sub(r"2025/26|10%|2\.5|fewer than 5|5 or more", "", masked)
    assert not re.search(r"\d", left), masked


def test_the_spread_between_schools_a_trustee_is_shown_is_estimated_from_figures_they_see():
    """With 20 or more schools the limits widen by the spread between them, estimated from every
    school's figure: drawn exactly in every limit, it is one more equation a hidden count could be
    solved from. A trustee's is estimated from the figures they see (the hidden count changes it
    no more than it changes the trust's total); a leader's still uses every school."""
    import numpy as np

    from analysis import funnel
    from analysis.compare import compare

    def compared(hidden_count):
        counts = [hidden_count] + [12, 25, 40, 9, 60, 18, 33, 7, 51, 22, 14, 70, 28, 11, 45, 19, 36, 8, 57, 24, 30]
        rows = frame(counts, base=1000.0)
        rows["denominator"] = [400.0 + 37 * i for i in range(len(counts))]
        rows["value"] = rows["numerator"] / rows["denominator"] * 100
        leader = compare(rows.drop(columns=["trust", "position"]))
        return leader, hide_small(leader, threshold=5)

    leader, trustee = compared(1)
    shown = trustee["numerator"].notna().to_numpy()
    assert (leader["spread"] > 0).all() and shown.sum() >= 19 and not shown[0]
    target, den = leader["target"].to_numpy(), leader["denominator"].to_numpy()
    se = funnel.standard_error(target, den, np.ones(len(den), dtype=bool))
    value = leader["value"].to_numpy()
    from_seen = math.sqrt(funnel.between_school_variance(value[shown], target[shown], se[shown]))
    from_all = math.sqrt(funnel.between_school_variance(value, target, se))
    assert leader["spread"].iloc[1] == from_all != from_seen
    assert np.allclose(trustee.loc[shown, "spread"], from_seen)
    # and the limits a trustee is drawn are those of that spread, around the trust's figure
    lower, upper = funnel.drawn_limits(target, den, 0.95, np.ones(len(den), dtype=bool), np.full(len(den), from_seen))
    assert np.allclose(trustee.loc[shown, "lower_95"], lower[shown])
    assert np.allclose(trustee.loc[shown, "upper_95"], upper[shown])


def test_a_day_before_its_month_is_a_date_not_a_count():
    from analysis.privacy import mask_counts

    assert mask_counts("Two were seen on 3 March and 12 Sept; one family moved.", 5) == \
        "Fewer than 5 were seen on 3 March and 12 Sept; fewer than 5 family moved."
    # the other way round it may be a count, and a lower-case "may" is a verb
    assert mask_counts("In March 3 children were seen; 2 may return.", 5) == \
        "In March fewer than 5 children were seen; fewer than 5 may return."
    assert mask_counts("On 40 March", 5) == "On 5 or more March"

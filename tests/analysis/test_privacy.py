"""What a trustee is shown of the compared figures and of free text."""

import math

import pandas as pd

from analysis.privacy import hide_small, mask_small


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

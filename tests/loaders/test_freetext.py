"""Free text is read for a child's details: a UPN however it is spaced, a date of birth, a name
beside a child's date of birth or a home address; never the template's own words, a staff
member's name, a governance date or a school's address."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loaders import registry, template
from loaders.freetext import (
    ADDRESS_KIND,
    BIRTH_KIND,
    LABELLED_KIND,
    NAMED_ADDRESS_KIND,
    NAMED_BIRTH_KIND,
    UPN_KIND,
    child_details,
)

TODAY = date(2026, 3, 27)  # a Spring return's completion date: children of 3 to 19 were born 2007-2023


@pytest.mark.parametrize("text, kind", [
    ("A123456789012", UPN_KIND),
    ("A123 4567 8901 2", UPN_KIND),
    ("A-1234-5678-9012", UPN_KIND),
    ("a 1234 5678 9012", UPN_KIND),
    ("UPN: T1234.5678.901Z", UPN_KIND),
    ("Jayden Smith DOB 03/04/2015", BIRTH_KIND),
    ("Amelia Brown, born 2014-05-01", BIRTH_KIND),
    ("Concern about Ellis Moore, d.o.b. 3 April 2015, referred to MASH", BIRTH_KIND),
    ("J. Smith b. 3/4/15", BIRTH_KIND),
    ("Ellis, DOB 030415", BIRTH_KIND),
    ("Date of birth: 14th March 2013", BIRTH_KIND),
    ("Riley Khan - born in 2016", BIRTH_KIND),
    ("Jayden Smith (03/04/2015)", NAMED_BIRTH_KIND),
    ("Jayden SMITH 3.4.15 - CP plan", NAMED_BIRTH_KIND),
    ("O'Neill-Hart, Siobhan Mary O'Neill-Hart 12.11.2012", NAMED_BIRTH_KIND),
    ("Zoë Łukasiewicz 12.11.2012", NAMED_BIRTH_KIND),
    ("Ayşe Şahin, 4 Mill Lane", NAMED_ADDRESS_KIND),
    ("Tom Jones lives at 12 High Street, AB1 2CD", NAMED_ADDRESS_KIND),
    ("Ellis Moore, 12 High Street, AB1 2CD", NAMED_ADDRESS_KIND),
    ("Mia McDonald 4 Station Road", NAMED_ADDRESS_KIND),
    ("Lives at 14 Oak Road with nan", ADDRESS_KIND),
    ("Child: Jayden Smith", LABELLED_KIND),
    ("Young person: J. Okafor", LABELLED_KIND),
    ("Pupil name: Ellis", LABELLED_KIND),
    ("Surname = Moore", LABELLED_KIND),
])
def test_a_childs_details_are_found(text, kind):
    assert child_details(text, today=TODAY) == kind


@pytest.mark.parametrize("text", [
    "A date, for example 14/01/2026.",
    "Enter a date, for example 14/01/2026. Leave blank if not known.",
    "Date completed",
    "Date of birth",  # a heading alone is the cells' rule, not free text's
    "Child protection policy last reviewed",
    "Never enter a child's name, UPN or date of birth anywhere in this workbook, on any sheet.",
    "Robin Placeholder",
    "Robin Placeholder 01/10/2025",  # a staff member's training date: too recent to be a child's birth
    "Reviewed by Robin Placeholder on 15/09/2021",  # a name and an old date, but not side by side
    "Policy adopted by the Governing Body 03/04/2015",
    "Two new staff started 03/02/2025, training booked",
    "Spring Term 14.01.26",
    "Early Help 12/03/2019",
    "Otterbrook Primary Academy, 1 School Lane, AB1 2CD",
    "Referred to MASH, Civic Centre, Town Hall Square, AB1 2CD",
    "Child - In Need meetings: 3",
    "Pupil: Premium",
    "Learner: Voice and progress",
    "See Appendix B. 2015 figures",
    "Child: Looked After",
    "Tel 0121 496 0000",
    "The school's 6-digit Unique Reference Number.",
    "2025/26",
    "Y4 2ND",
    "Termly safeguarding return",
    "Page 1 of 3",
    "Safeguarding governance dashboard",
])
def test_the_returns_own_words_and_staff_details_are_not(text):
    assert child_details(text, today=TODAY) is None


def test_a_label_reads_underscores_and_run_together_words_as_spaces():
    assert child_details("Jayden_Smith_DOB_030415", label=True) == BIRTH_KIND
    assert child_details("JaydenSmithDOB030415", label=True) == BIRTH_KIND
    assert child_details("A123_4567_8901_2", label=True) == UPN_KIND
    assert child_details("Print_Area", label=True) is None
    assert child_details("990001_2024-25_Autumn", label=True) is None


def test_the_template_and_the_contract_say_nothing_that_looks_like_a_child():
    texts = [s.title for s in registry.SHEETS] + [s.instructions for s in registry.SHEETS]
    texts += [r.label for s in registry.SHEETS for r in s.rows] + [r.hint for s in registry.SHEETS for r in s.rows]
    texts += [c.label for s in registry.SHEETS for c in s.columns] + list(registry.LEAD_ROLES)
    texts += [t for pair in template.INSTRUCTIONS for t in pair] + list(template._ABOUT_HINTS.values())
    texts += [t for v in template._VALIDATIONS.values() for t in v[4:] if t]
    assert [t for t in texts if child_details(t, today=TODAY)] == []


# --------------------------------------------------------------------------- properties

DIGITS = st.text("0123456789", min_size=12, max_size=12)
SEPARATOR = st.sampled_from(["", "", "", " ", "-", "."])


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.sampled_from("ABCKTZ"), DIGITS, st.lists(SEPARATOR, min_size=13, max_size=13),
       st.sampled_from(["", "UPN ", "Ref: ", "Notes - "]), st.sampled_from(["", " referred", ".", " (moved)"]))
def test_a_upn_is_found_however_it_is_spaced(letter, digits, separators, before, after):
    chars = letter + digits
    upn = "".join(c + s for c, s in zip(chars, separators))[:-len(separators[-1]) or None]
    assert child_details(f"{before}{upn}{after}") == UPN_KIND


NAMES = st.sampled_from(["Jayden Smith", "Amelia Brown", "Ellis Moore", "Siobhan O'Neill", "Mia McDonald",
                         "Oliver Nowak", "Aisha Begum", "Noah Williams-Clarke", "Zara Okafor"])
MARKERS = st.sampled_from(["DOB", "DOB:", "D.O.B.", "dob", "born", "Born", "date of birth", "Date of birth:", "b."])
DATES = st.dates(date(2007, 1, 1), date(2023, 12, 31))
STYLES = st.sampled_from(["%d/%m/%Y", "%d/%m/%y", "%d.%m.%Y", "%d-%m-%Y", "%Y-%m-%d", "%d %B %Y", "%d %b %Y",
                          "%B %d, %Y"])


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(NAMES, MARKERS, DATES, STYLES, st.sampled_from(["", "Concern: ", "Re ", "CP plan - "]),
       st.sampled_from(["", ", referred to early help", " (Y4)", "."]))
def test_a_name_beside_a_date_of_birth_is_found_however_the_date_is_written(name, marker, born, style, before, after):
    text = f"{before}{name} {marker} {born.strftime(style)}{after}"
    assert child_details(text, today=TODAY) == BIRTH_KIND


GOVERNANCE = st.sampled_from([
    "Policy reviewed {d}", "Filtering and monitoring last reviewed on {d}", "Single central record checked {d}",
    "Date completed: {d}", "Training booked for {d}", "Next review due {d}", "Figures checked by the DSL on {d}",
    "Governors approved the policy on {d}.", "A date, for example {d}.", "Term ends {d}",
])


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(GOVERNANCE, st.dates(date(2000, 1, 1), date(2030, 12, 31)), STYLES)
def test_a_governance_date_in_any_style_is_never_a_date_of_birth(sentence, day, style):
    assert child_details(sentence.format(d=day.strftime(style)), today=TODAY) is None

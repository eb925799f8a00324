"""The serious case review themes the dashboard charts against, as data.

Each theme carries a few sentences of our own on what the national analyses of serious case
reviews found and why it matters to a school, with the sources by title, publisher and year.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    title: str
    publisher: str
    year: int

    def __str__(self) -> str:
        return f"{self.title} ({self.publisher}, {self.year})"


COMPLEXITY = Source("Complexity and challenge: a triennial analysis of SCRs 2014-2017", "Department for Education", 2020)
# SCIE's summary for schools, with its findings on neglect, adolescents and multi-agency working.
SCIE = Source("Analysis of Serious Case Reviews (SCRs) for the education sector", "Social Care Institute for Excellence", 2020)
SCIE_NEGLECT = SCIE_ADOLESCENTS = SCIE_MULTI = SCIE
RIP_BRIEFING = Source("Briefing on the triennial analysis of serious case reviews", "Research in Practice", 2020)
LEARNING_FUTURE = Source("Learning for the future: final analysis of serious case reviews 2017 to 2019", "Department for Education", 2022)
KCSIE = Source("Keeping children safe in education", "Department for Education", 2025)
CIN_STATS = Source("Characteristics of children in need", "Department for Education", 2025)


@dataclass(frozen=True)
class Theme:
    id: str
    title: str
    short: str  # a column heading on the heatmap
    learning: str  # what the reviews found and why it matters to a school, in our words
    question: str  # the broad question a trustee can always ask on this theme
    sources: tuple[Source, ...]


THEMES: tuple[Theme, ...] = (
    Theme(
        "neglect",
        "Neglect",
        "Neglect",
        "Neglect ran through about three in four of the serious case reviews analysed for 2014 to "
        "2017, and it was the plan category for most of the children in those reviews who were on a "
        "child protection plan. The harm builds up slowly, often alongside poverty, so it is easy to "
        "get used to. Poor attendance and missed appointments were among the signs the reviews kept "
        "finding. A school sees a child every day: it matters that flags are raised, chronologies "
        "kept up to date, and that children are not left on in-school monitoring while nothing changes.",
        "How do we know neglect is being noticed, and that flagged children do not drift?",
        (COMPLEXITY, SCIE_NEGLECT, RIP_BRIEFING),
    ),
    Theme(
        "adolescents",
        "Adolescents and risk outside the home",
        "Adolescents",
        "The 2014 to 2017 analysis named new threats to teenagers as an emerging theme: sexual and "
        "criminal exploitation, going missing, and harm through social media. Going missing is both a "
        "warning sign and a route into exploitation, and exclusion or a reduced timetable can leave a "
        "young person out of sight of the adults who would notice. A secondary school that records "
        "no concerns of this kind may be missing them rather than free of them.",
        "Would we notice a pupil being drawn into exploitation, and do our exclusions and part-time timetables add to the risk?",
        (COMPLEXITY, SCIE_ADOLESCENTS, RIP_BRIEFING),
    ),
    Theme(
        "multi_agency",
        "Multi-agency working",
        "Multi-agency",
        "Reviews repeatedly found that what each agency knew was never put together. For schools the "
        "learning is practical: someone from education at every child protection conference and "
        "strategy discussion, reports in plain descriptive language and on time, a share in the "
        "child's chronology, and the confidence to challenge and escalate when a referral is not "
        "accepted and the school is still worried.",
        "Is the school at the table when decisions about its pupils are made, and does it challenge when it disagrees?",
        (SCIE_MULTI, COMPLEXITY),
    ),
    Theme(
        "workforce",
        "Workforce, leadership and KCSIE",
        "Workforce",
        "Keeping children safe in education sets the floor: all staff trained at induction and "
        "updated every year, the designated safeguarding lead and deputies fully trained every two "
        "years and refreshed every year, trained governors, and the child protection policy and the "
        "filtering and monitoring arrangements reviewed every year. These are checks a board can see "
        "for itself; when they slip, the practice the reviews call for is harder to sustain.",
        "Are our people trained and our checks in date, and who makes sure they stay that way?",
        (KCSIE,),
    ),
    Theme(
        "oversight",
        "Oversight and data quality",
        "Oversight",
        "A board can only ask good questions of numbers that arrive, on time and complete. A missing "
        "or late return, a return full of blanks, or a sudden change no one has explained is itself "
        "something to ask about: the reviews found that warning signs were often there in records "
        "that no one was reading together.",
        "Are we getting complete returns on time, and is anyone reading them?",
        (COMPLEXITY,),
    ),
)

THEMES_BY_ID = {t.id: t for t in THEMES}
THEME_IDS = tuple(t.id for t in THEMES)


def short_name(theme_id: str) -> str:
    """A theme's short name for tables and labels; an id that names no theme is shown as it is."""
    theme = THEMES_BY_ID.get(theme_id)
    return theme.short if theme else theme_id

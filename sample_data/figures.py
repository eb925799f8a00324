"""The numbers in the sample trust's returns: plausible for England, seeded, and obeying every
rule of the contract.

Rates follow the England figures in SCR_THEMES.md (persistent absence about a fifth of pupils,
severe absence about 2%, suspensions about 11 per 100 pupils a year and far more in secondary
and alternative provision, child protection plans under 1%, concerns recorded for about one
pupil in ten a term). Each school keeps its own character from term to term; each term adds
noise. The planted patterns of ``trust.PATTERNS`` are written over the top.
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

from loaders import registry
from loaders.report import Lead
from sample_data import trust

# Per pupil on roll (per term for flows such as suspensions and concerns).
PHASES = {
    "primary": dict(fsm=.24, ehcp=.03, sen=.13, lac=.006, cp=.007, cin=.018, early_help=.03,
                    neglect=.03, concerns=.08, absent=.15, severe=.012, suspended=.008,
                    excluded=.0002, part_time=.002, ap=.001, cme=.002, ehe=.003, staff=1 / 9),
    "secondary": dict(fsm=.22, ehcp=.025, sen=.12, lac=.007, cp=.008, cin=.02, early_help=.025,
                      neglect=.02, concerns=.10, absent=.24, severe=.03, suspended=.055,
                      excluded=.0012, part_time=.006, ap=.008, cme=.002, ehe=.004, staff=1 / 10),
    "special": dict(fsm=.45, ehcp=.97, sen=.02, lac=.03, cp=.02, cin=.05, early_help=.04,
                    neglect=.05, concerns=.14, absent=.32, severe=.05, suspended=.03,
                    excluded=0, part_time=.03, ap=.02, cme=.003, ehe=.002, staff=1 / 2.2),
    "alternative provision": dict(fsm=.6, ehcp=.18, sen=.45, lac=.06, cp=.05, cin=.12,
                                  early_help=.08, neglect=.06, concerns=.15, absent=.62,
                                  severe=.24, suspended=.18, excluded=.003, part_time=.15,
                                  ap=.02, cme=.01, ehe=.01, staff=1 / 3),
}

# How concerns split across categories (weights), primary and older pupils.
_MIX_PRIMARY = dict(neglect=22, physical=9, emotional=14, sexual=3, domestic_abuse=18, cse=.3,
                    cce=.3, child_on_child=8, online=6, radicalisation=.5, mental_health=10,
                    missing=1, other=7)
_MIX_OLDER = dict(neglect=12, physical=6, emotional=10, sexual=4, domestic_abuse=12, cse=2.5,
                  cce=3, child_on_child=12, online=9, radicalisation=1, mental_health=22,
                  missing=3, other=6)

# Where concerns in each category were referred (share of children with concerns).
_ROUTES_DEFAULT = dict(early_help=.15, social_care=.08, police=.02, prevent=0, health=.04)
_ROUTES = {
    "neglect": dict(early_help=.25, social_care=.15),
    "physical": dict(social_care=.25, police=.08),
    "sexual": dict(social_care=.4, police=.25),
    "domestic_abuse": dict(early_help=.2, social_care=.12, police=.03),
    "cse": dict(social_care=.5, police=.4),
    "cce": dict(social_care=.4, police=.5),
    "child_on_child": dict(social_care=.1, police=.08),
    "online": dict(early_help=.08, police=.05),
    "radicalisation": dict(prevent=.4, police=.05),
    "mental_health": dict(early_help=.1, health=.45),
    "missing": dict(social_care=.3, police=.5),
    "other": dict(early_help=.1),
}

# Absence runs higher as the year goes on.
_SEASON = {"Autumn": 0.9, "Spring": 1.05, "Summer": 1.1}

_FIRST_NAMES = ("Ruth", "Dev", "Amara", "Callum", "Hollis", "Ines", "Jasper", "Keziah", "Lorna",
                "Milo", "Nerys", "Oren", "Priya", "Rowan", "Sefton", "Tamsin")
_SURNAMES = ("Quarrendon", "Pellowby", "Thistlewood", "Brackenridge", "Wetherall", "Kettleby",
             "Larchmont", "Haverleigh", "Ormsgill", "Danvers-Hale", "Fenwright", "Mirrlees",
             "Cottesby", "Ashgrove", "Yelland", "Brindlecombe")


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 40:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def binomial(rng: random.Random, n: int, p: float) -> int:
    return sum(1 for _ in range(n) if rng.random() < p)


def school_character(school: trust.School) -> dict[str, float]:
    """How far this school sits from its phase's rates: fixed for the school, every term."""
    rng = random.Random(f"school:{school.urn}")
    rates = dict(PHASES[school.phase])
    return {k: v * rng.uniform(0.75, 1.3) for k, v in rates.items()} | {"growth": rng.uniform(-0.03, 0.04)}


def pupils_on_roll(school: trust.School, year: str, term: str, rng: random.Random) -> int:
    growth = school_character(school)["growth"] if year != trust.YEARS[0] else 0.0
    drift = {"Autumn": 0.0, "Spring": 0.005, "Summer": 0.008}[term]
    return max(1, round(school.pupils * (1 + growth + drift) + rng.randint(-3, 3)))


def plan_values(school: trust.School, year: str, term: str) -> dict[str, object]:
    """Every measure id the term's template version asks, for one school-term (None where left
    blank)."""
    rng = random.Random(f"{school.urn}:{year}:{term}")
    rate = school_character(school)
    version = trust.template_version(year, term)
    values: dict[str, object] = {m.id: None for m in registry.ASKED[version]}
    pupils = pupils_on_roll(school, year, term, rng)
    end = registry.term_end(year, term)

    def per_pupil(key: str, factor: float = 1.0) -> int:
        return poisson(rng, pupils * rate[key] * factor)

    values.update({
        "about.template_version": version, "about.urn": school.urn,
        "about.school_name": school.name, "about.academic_year": year, "about.term": term,
        "about.completed_by": rng.choice(("DSL", "DSL", "Deputy DSL", "Headteacher")),
        "about.date_completed": end + timedelta(days=rng.randint(3, trust.DUE_DAYS)),
        "about.pupils_on_roll": pupils,
        "about.pupils_fsm": per_pupil("fsm"), "about.pupils_ehcp": min(pupils, per_pupil("ehcp")),
        "about.pupils_sen_support": per_pupil("sen"), "about.looked_after": per_pupil("lac"),
        "about.cp_plans": per_pupil("cp"), "about.cin": per_pupil("cin"),
        "about.early_help": per_pupil("early_help"),
    })
    values.update(_governance(school, year, term, rng))
    values.update(_training(pupils, rate, rng))
    values.update(_neglect(values, pupils, rate, rng))
    values.update(_referrals(school, pupils, rate, rng))
    values.update(_inclusion(pupils, rate, term, rng))
    values.update(_multi_agency(values, pupils, rng))
    if version >= 2:
        values.update(_version_2(school, year, term, values, pupils))
    return values


def _version_2(school: trust.School, year: str, term: str, values: dict, pupils: int) -> dict:
    """What version 2 adds, from a generator of its own so the version 1 figures stay as they were."""
    rng = random.Random(f"v2:{school.urn}:{year}:{term}")
    with_social_worker = values["about.cp_plans"] + values["about.cin"] + values["about.looked_after"]
    # Children with a social worker miss school more often than their classmates.
    share = min(0.9, values["inclusion.persistently_absent"] / pupils * rng.uniform(1.3, 1.8))
    low_level = poisson(rng, pupils / 250 + 0.5)
    return {
        "about.phase": values_phase(school),
        "about.social_worker": with_social_worker,
        "inclusion.sw_persistently_absent": binomial(rng, with_social_worker, share),
        "inclusion.private_fostering": poisson(rng, pupils * 0.0006),
        "multi_agency.low_level.due": low_level,
        "multi_agency.low_level.done": binomial(rng, low_level, 0.96),
    }


def values_phase(school: trust.School) -> str:
    """The school's phase as the return's drop-down names it."""
    (phase,) = [p for p in registry.PHASES if p.lower() == school.phase]
    return phase


def _governance(school: trust.School, year: str, term: str, rng: random.Random) -> dict:
    first = int(year[:4])
    offset = int(school.urn) % 15
    end = registry.term_end(year, term)
    return {
        "about.cp_policy_reviewed": date(first, 9, 8 + offset),
        "about.filtering_reviewed": date(first, 10, 2 + offset),
        "about.central_record_checked": end - timedelta(days=rng.randint(12, 50)),
    }


def _training(pupils: int, rate: dict, rng: random.Random) -> dict:
    staff = max(12, round(pupils * rate["staff"]) + rng.randint(-2, 2))
    scope = {"whole_staff": staff, "kcsie_part_one": staff, "prevent": staff,
             "online_safety": staff, "safer_recruitment": 4 + staff // 15,
             "governors": rng.randint(9, 13)}
    # Most staff are in date in a trust that keeps on top of training: the planted lapses stand out.
    lapse = {"whole_staff": .008, "kcsie_part_one": .008, "prevent": .015, "online_safety": .02,
             "safer_recruitment": .02, "governors": .03}
    out = {}
    for row, n in scope.items():
        out[f"training.{row}.in_scope"] = n
        out[f"training.{row}.in_date"] = n - binomial(rng, n, lapse[row])
    return out


def _neglect(values: dict, pupils: int, rate: dict, rng: random.Random) -> dict:
    active = poisson(rng, pupils * rate["neglect"])
    cp_plans = values["about.cp_plans"]
    return {
        "neglect.active_flags": active,
        "neglect.new_flags": binomial(rng, active, .3),
        "neglect.chronology_reviewed": binomial(rng, active, .85),
        "neglect.persistently_absent": binomial(rng, active, .4),
        "neglect.early_help_plan": binomial(rng, active, .45),
        "neglect.cp_plan_neglect": min(cp_plans, binomial(rng, active, .2)),
        "neglect.monitoring_only_2_terms": binomial(rng, active, .08),
    }


def _referrals(school: trust.School, pupils: int, rate: dict, rng: random.Random) -> dict:
    mix = _MIX_PRIMARY if school.phase == "primary" else _MIX_OLDER
    total = sum(mix.values())
    out = {}
    for row in registry.REFERRALS.rows:
        concerns = poisson(rng, pupils * rate["concerns"] * mix[row.id] / total)
        routes = _ROUTES_DEFAULT | _ROUTES.get(row.id, {})
        referred = {route: binomial(rng, concerns, routes[route]) for route in registry.REFERRAL_ROUTES}
        not_accepted = binomial(rng, referred["early_help"] + referred["social_care"], .15)
        out[f"referrals.{row.id}.concerns"] = concerns
        out.update({f"referrals.{row.id}.{route}": n for route, n in referred.items()})
        out[f"referrals.{row.id}.not_accepted"] = not_accepted
        out[f"referrals.{row.id}.escalated"] = binomial(rng, not_accepted, .4)
    return out


def _inclusion(pupils: int, rate: dict, term: str, rng: random.Random) -> dict:
    season = _SEASON[term]
    absent = poisson(rng, pupils * rate["absent"] * season)
    return {
        "inclusion.persistently_absent": absent,
        "inclusion.severely_absent": min(absent, poisson(rng, pupils * rate["severe"] * season)),
        "inclusion.suspended": poisson(rng, pupils * rate["suspended"]),
        "inclusion.permanently_excluded": poisson(rng, pupils * rate["excluded"]),
        "inclusion.part_time_timetable": poisson(rng, pupils * rate["part_time"]),
        "inclusion.alternative_provision": poisson(rng, pupils * rate["ap"]),
        "inclusion.cme_reported": poisson(rng, pupils * rate["cme"]),
        "inclusion.ehe_removals": poisson(rng, pupils * rate["ehe"]),
    }


def _multi_agency(values: dict, pupils: int, rng: random.Random) -> dict:
    cp, cin = values["about.cp_plans"], values["about.cin"]
    conferences = poisson(rng, cp * 0.6 + 0.5)
    due = {
        "cp_conferences": conferences, "cp_reports": conferences,
        "core_groups": poisson(rng, cp * 2), "cin_meetings": poisson(rng, cin),
        "strategy": poisson(rng, cp * 0.4 + 0.5),
        "early_help_reviews": poisson(rng, values["about.early_help"] * 0.9),
        "peps": values["about.looked_after"], "lado": poisson(rng, pupils / 1000 + 0.3),
    }
    done_share = {"cp_conferences": .98, "cp_reports": .93, "core_groups": .95, "cin_meetings": .94,
                  "strategy": .96, "early_help_reviews": .95, "peps": .95, "lado": 1.0}
    out = {}
    for row, n in due.items():
        out[f"multi_agency.{row}.due"] = n
        out[f"multi_agency.{row}.done"] = binomial(rng, n, done_share[row])
    return out


def plan_leads(school: trust.School, year: str, term: str) -> list[Lead]:
    """The school's DSL, deputies and designated teacher, with training dates as at term end (the
    designated teacher left off where a pattern says so)."""
    rng = random.Random(f"leads:{school.urn}")
    end = registry.term_end(year, term)
    deputies = {"primary": 1, "secondary": 3}.get(school.phase, 2)
    roles = [registry.LEAD_ROLES[0]] + [registry.LEAD_ROLES[1]] * deputies + [registry.LEAD_ROLES[2]]
    names = rng.sample(range(len(_SURNAMES)), len(roles))
    leads = []
    for role, n in zip(roles, names):
        name = f"{rng.choice(_FIRST_NAMES)} {_SURNAMES[n]}"
        first_full = date(2023, 1, 9) + timedelta(days=rng.randint(0, 600))
        first_refresher = first_full - timedelta(days=rng.randint(60, 300))
        # Full training every ~23 months and a refresher every ~11: never lapsing on their own.
        full = _last_before(first_full, 700, end)
        refresher = _last_before(first_refresher, 340, end)
        if role == registry.DSL_ROLE and school.urn == _lapsed_urn():
            full, refresher = trust.LAPSED_FULL, trust.LAPSED_REFRESHER
        leads.append(Lead(role, name if role != registry.LEAD_ROLES[2] or rng.random() < .7 else None,
                          full, refresher))
    if (school.urn, year, term) == trust.NO_DESIGNATED_TEACHER:
        leads = [lead for lead in leads if lead.role != registry.DESIGNATED_TEACHER]
    return leads


def _last_before(first: date, every_days: int, end: date) -> date | None:
    if first > end:
        return None
    return first + timedelta(days=every_days * ((end - first).days // every_days))


def _lapsed_urn() -> str:
    return next(p.urn for p in trust.PATTERNS if p.id == "dsl_training_lapsed")


def plant(school: trust.School, year: str, term: str, values: dict[str, object]) -> None:
    """Write the planted patterns (trust.PATTERNS) over one school-term's values."""
    i = trust.TERMS.index((year, term))
    rng = random.Random(f"plant:{school.urn}:{year}:{term}")
    planted = {p.id for p in trust.PATTERNS if p.urn == school.urn and (year, term) in p.terms}
    if "neglect_drift" in planted:
        active = 19 + rng.randint(0, 3)
        values["neglect.active_flags"] = active
        values["neglect.monitoring_only_2_terms"] = trust.DRIFT_MONITORING_ONLY[i]
        values["neglect.chronology_reviewed"] = round(active * trust.DRIFT_CHRONOLOGY_SHARE[i])
        values["neglect.early_help_plan"] = round(active * 0.15)
        values["neglect.new_flags"] = 2 + rng.randint(0, 3)
    if "no_exploitation_recorded" in planted:
        for row in trust.SILENT_ROWS:
            for col in registry.REFERRALS.columns:
                values[f"referrals.{row}.{col.id}"] = 0
    if "conference_attendance_falling" in planted:
        due = 11 + rng.randint(0, 3)
        values["multi_agency.cp_conferences.due"] = due
        values["multi_agency.cp_conferences.done"] = round(due * trust.CONFERENCE_ATTENDANCE[i])
        values["about.cp_plans"] = max(values["about.cp_plans"], due)
    if "late_return" in planted:
        values["about.date_completed"] = trust.deadline(year, term) + timedelta(days=trust.LATE_DAYS_AFTER_DEADLINE)
    if "many_blanks" in planted:
        for measure_id in trust.BLANK_IDS:
            values[measure_id] = None
    if "allegations_not_referred" in planted:
        (received, referred), = [(d, n) for y, t, d, n in trust.ALLEGATIONS_NOT_REFERRED if (y, t) == (year, term)]
        values["multi_agency.lado.due"], values["multi_agency.lado.done"] = received, referred
    if "social_worker_absence" in planted:
        share = trust.SOCIAL_WORKER_ABSENCE[[t for t in trust.TERMS if trust.template_version(*t) == 2].index((year, term))]
        values["about.social_worker"] = max(values["about.social_worker"], 35 + rng.randint(0, 4))
        values["inclusion.sw_persistently_absent"] = round(values["about.social_worker"] * share)
    if "no_designated_teacher" in planted:
        values["about.looked_after"] = max(values["about.looked_after"], 2)


def settle(values: dict[str, object], previous: dict[str, object] | None) -> None:
    """Keep the figures believable: no count above three times last term's (the loader would
    query it), then every rule of the contract, and a few relations the rules do not state."""
    if previous:
        for measure_id in registry.COUNT_IDS:
            now, before = values.get(measure_id), previous.get(measure_id)
            if isinstance(now, int) and isinstance(before, int) and before > 0 and now > 3 * before:
                values[measure_id] = 3 * before
    # In every rule the left-hand cell is never on a right-hand side, so one pass settles them.
    for rule in registry.RULES:
        if rule.left not in values:
            continue  # a rule of a later version than this return's
        left, right = values[rule.left], [values[r] for r in rule.right]
        if left is not None and None not in right and left > sum(right):
            values[rule.left] = sum(right)
    for row in registry.REFERRALS.rows:
        escalated, not_accepted = f"referrals.{row.id}.escalated", f"referrals.{row.id}.not_accepted"
        if values[escalated] is not None and values[not_accepted] is not None:
            values[escalated] = min(values[escalated], values[not_accepted])
    if values["neglect.cp_plan_neglect"] is not None and values["about.cp_plans"] is not None:
        values["neglect.cp_plan_neglect"] = min(values["neglect.cp_plan_neglect"], values["about.cp_plans"])

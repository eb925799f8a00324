"""Settings, for the trust's leadership: the lines the gap list draws, moved from their defaults
when the trust chooses, each change checked, stored and put on record with who made it and when.
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from analysis.change_thresholds import change_thresholds
from analysis.thresholds import THRESHOLDS_BY_ID, Threshold, default_for, listed, resolve
from store import thresholds as stored
from ui import shell

shell.require_manager()

eng = shell.engine()
user = shell.current_user()
state = st.session_state
# A threshold's input gets a fresh key once its value is saved or reset, so it shows the stored value.
state.setdefault("threshold_versions", {})


def is_share(spec: Threshold) -> bool:
    return spec.unit == "share"


def as_entered(spec: Threshold, value: float) -> float:
    """How a value is typed in: shares as percentages (90 for 0.9), others as they are."""
    return round(value * 100, 6) if is_share(spec) else value


def from_entered(spec: Threshold, typed: float) -> float:
    return round(typed / 100, 8) if is_share(spec) else float(typed)


def shown(spec: Threshold | None, value: float) -> str:
    if spec is None:
        return f"{value:g}"
    if is_share(spec):
        return f"{value * 100:g}%"
    unit = spec.unit[:-1] if value == 1 and spec.unit.endswith("s") else spec.unit
    return f"{value:g} {unit}"


def same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def input_key(spec: Threshold) -> str:
    return f"threshold-{spec.id}-{state['threshold_versions'].get(spec.id, 0)}"


def renew_input(key: str) -> None:
    state["threshold_versions"][key] = state["threshold_versions"].get(key, 0) + 1


def threshold_row(spec: Threshold, value: float, default: float, changed: bool) -> None:
    cols = st.columns([5, 1.4, 1.6, 1.6, 1.8], vertical_alignment="center")
    cols[0].markdown(f"**{spec.label}**")
    cols[0].caption(spec.meaning)
    cols[1].markdown(f"Default  \n{shown(spec, default)}" + ("" if same(default, spec.default) else " (any term)"))
    cols[2].markdown(f"Now  \n**{shown(spec, value)}**" + (" (changed)" if changed else ""))
    cols[3].number_input(
        f"{spec.label} (%)" if is_share(spec) else spec.label,
        value=float(as_entered(spec, value)),
        step=1.0 if spec.unit != "times" else 0.5,
        format="%g",
        key=input_key(spec),
        label_visibility="collapsed",
        help="Enter a percentage, e.g. 90 for 90%." if is_share(spec) else None,
        icon=":material/percent:" if is_share(spec) else None,
    )
    if changed and cols[4].button("Back to the default", key=f"reset-{spec.id}"):
        outcome = shell.run_safely("putting the setting back", change_thresholds, eng, {spec.id: None}, user=user)
        if outcome is not None:
            renew_input(spec.id)
            state["settings_refused"] = [f"Not saved: {problem}" for problem in outcome.refused.values()]
            if not outcome.refused:
                state["settings_saved"] = [f"{spec.label}: back to the default, {shown(spec, default)}."]
            st.rerun()


def refusal(spec: Threshold, value: float, problem: str) -> str:
    text = f"Not saved: {problem}"
    if is_share(spec) and spec.maximum is not None:
        text += f" Enter it as a percentage, from {spec.minimum * 100:g} to {spec.maximum * 100:g}."
    return f"{text} You entered {as_entered(spec, value):g}{'%' if is_share(spec) else ''}."


def save(specs: tuple[Threshold, ...], current: dict[str, float]) -> tuple[list[str], list[str], bool]:
    """Check and store every threshold whose input differs from its value now, all in one or none:
    (saved, refused, whether it got as far as an answer)."""
    proposed = {}
    for spec in specs:
        typed = state.get(input_key(spec))
        if typed is not None and not same(from_entered(spec, typed), current[spec.id]):
            proposed[spec.id] = from_entered(spec, typed)
    if not proposed:
        return [], [], True
    outcome = shell.run_safely("saving the settings", change_thresholds, eng, proposed, user=user)
    if outcome is None:
        return [], [], False
    if outcome.refused:
        refused = [refusal(THRESHOLDS_BY_ID[key], proposed[key], problem) if key in proposed else f"Not saved: {problem}"
                   for key, problem in outcome.refused.items()]
        if len(proposed) > 1:
            refused.append("Nothing was saved: the changes are saved together once every one of them can be.")
        return [], refused, True
    for key in proposed:
        renew_input(key)
    saved = [f"{THRESHOLDS_BY_ID[key].label}: {shown(THRESHOLDS_BY_ID[key], current[key])} to "
             f"{shown(THRESHOLDS_BY_ID[key], value)}." for key, value in proposed.items()]
    return saved, [], True


def notices() -> None:
    for line in state.pop("settings_saved", []):
        st.success(f"Saved. {line}", icon=":material/check_circle:")
    for line in state.pop("settings_refused", []):
        st.error(line, icon=":material/block:")
    if state.pop("settings_unchanged", False):
        st.info("Nothing to save: no value was changed.", icon=":material/info:")


def thresholds_section(changed: dict[str, float]) -> None:
    current = resolve(changed)
    specs = listed(changed)
    for spec in specs:
        threshold_row(spec, current[spec.id], default_for(spec.id, changed), spec.id in changed)
        st.divider()
    if st.button("Save changes", type="primary", icon=":material/save:"):
        saved, refused, whole = save(specs, current)
        state["settings_saved"], state["settings_refused"] = saved, refused
        state["settings_unchanged"] = whole and not saved and not refused
        if whole:  # after a failure the apology stays on screen; the page refreshes on the next click
            st.rerun()


def describe_change(row) -> str:
    spec = THRESHOLDS_BY_ID.get(row.key)
    label = spec.label if spec else str(row.key)
    default = f"the default ({shown(spec, spec.default)})" if spec else "the default"
    old = default if row.old is None else shown(spec, row.old)
    if row.action == stored.RESET:
        return f"{label}: back to {default} from {old}."
    return f"{label}: {old} to {shown(spec, row.new)}."


def changes_section() -> None:
    st.header("Recent changes")
    changes = shell.run_safely("reading the recent changes", stored.threshold_changes, eng, limit=20)
    if changes is None:
        return
    if changes.empty:
        st.caption("No threshold has been changed yet: every line is at its default.")
        return
    frame = pd.DataFrame({
        "When (UTC)": changes["at"].dt.strftime("%d %b %Y %H:%M"),
        "Who": changes["actor"],
        "What changed": [describe_change(r) for r in changes.itertuples()],
    })
    st.table(frame, hide_index=True, border="horizontal")


st.title("Settings")
st.markdown(
    "The lines the gap list uses to raise a school as red or amber, or to ask about it. The defaults "
    "follow *Keeping children safe in education* where it sets a standard; the trust's leadership can "
    "move them. Shares are entered as percentages. Every change is recorded with who made it and when."
)
notices()
changed_now = shell.run_safely("reading the settings", stored.load_thresholds, eng)
if changed_now is not None:
    thresholds_section(changed_now)
    changes_section()

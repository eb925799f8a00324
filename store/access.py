"""Who may see what, decided in one place: the roles and the scope each gives a signed-in user.

- A trust leader (CEO, trust safeguarding lead, data officer) sees and manages everything.
- A trustee sees the whole trust, read-only, with small numbers suppressed.
- A DSL sees and uploads for their own school or schools only. The trust's pooled values are
  theirs to compare with (the data layer pools before it filters); another school's rows never.

Pure: no database, no Streamlit. The data layer asks a Scope before it hands rows to a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from store.users import User

TRUST_LEADER, TRUSTEE, DSL = "trust_leader", "trustee", "dsl"
# The roles in the words the pages and the command line show.
ROLES = {TRUST_LEADER: "Trust leader", TRUSTEE: "Trustee", DSL: "DSL"}


@dataclass(frozen=True)
class Scope:
    """What one user may see and do. ``urns`` None means every school; an empty set, none."""

    role: str
    email: str
    urns: frozenset[str] | None
    suppress: bool
    active: bool = True  # False for a removed user: they see nothing and change nothing

    def allows(self, urn) -> bool:
        """May this user see the school's own figures?"""
        if not self.active or urn is None:
            return False
        return self.urns is None or str(urn) in self.urns

    def filter(self, frame: pd.DataFrame, column: str = "urn") -> pd.DataFrame:
        """The rows of ``frame`` this user may see: rows of schools outside the scope dropped.

        A row with no URN is dropped too unless the user sees every school: it is not a school
        this user holds, and a pooled row is to be added after filtering, not kept through it.
        """
        if not self.active:
            return frame.iloc[0:0].copy()
        if self.urns is None:
            return frame.copy()
        keep = frame[column].map(lambda urn: urn is not None and not pd.isna(urn) and str(urn) in self.urns)
        return frame[keep.astype(bool)].copy()

    def can_upload(self, urn) -> bool:
        """Trust leaders upload for any school, DSLs for their own; trustees only read."""
        return self.role != TRUSTEE and self.allows(urn)

    @property
    def can_challenge(self) -> bool:
        """The board's questions and the pack: trust leaders and trustees; a DSL reads their own
        school's questions but does not record them."""
        return self.active and self.role in (TRUST_LEADER, TRUSTEE)

    @property
    def can_manage(self) -> bool:
        """Users, schools, thresholds and the audit: trust leaders only."""
        return self.active and self.role == TRUST_LEADER


def scope_for(user: User) -> Scope:
    """The scope of a user (anything with email, role, urns and disabled)."""
    if user.role not in ROLES:
        raise ValueError(f"{user.role!r} is not a role: use one of {', '.join(ROLES)}.")
    if getattr(user, "disabled", False):
        return Scope(user.role, user.email, frozenset(), suppress=True, active=False)
    if user.role == TRUST_LEADER:
        return Scope(TRUST_LEADER, user.email, None, suppress=False)
    if user.role == TRUSTEE:
        return Scope(TRUSTEE, user.email, None, suppress=True)
    # A DSL's own figures are theirs to see in full: suppression protects children from readers
    # outside the school, and the DSL already knows them.
    return Scope(DSL, user.email, frozenset(str(u) for u in user.urns), suppress=False)

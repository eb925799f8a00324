"""Who may see what: the scope of each role, decided in one place."""

from __future__ import annotations

import pandas as pd
import pytest

from store.access import DSL, TRUST_LEADER, TRUSTEE, Scope, scope_for
from store.users import User

ROWS = pd.DataFrame({"urn": ["140001", "140002", "140003", None], "value": [1.0, 2.0, 3.0, 9.0]})


def test_a_trust_leader_sees_and_manages_everything_unsuppressed():
    scope = scope_for(User("ceo@trust.example", "Avery Quill", TRUST_LEADER, ()))
    assert scope == Scope(TRUST_LEADER, "ceo@trust.example", None, suppress=False)
    assert scope.allows("140003") and scope.can_upload("140003") and scope.can_manage
    pd.testing.assert_frame_equal(scope.filter(ROWS), ROWS)


def test_a_trustee_sees_the_whole_trust_read_only_and_suppressed():
    scope = scope_for(User("chair@trust.example", None, TRUSTEE, ()))
    assert scope.urns is None and scope.suppress
    assert scope.allows("140001") and not scope.can_upload("140001") and not scope.can_manage
    assert len(scope.filter(ROWS)) == 4


def test_a_dsl_sees_and_uploads_for_their_own_schools_only():
    scope = scope_for(User("dsl@school.example", None, DSL, ("140001", "140003")))
    assert scope.urns == frozenset({"140001", "140003"}) and not scope.suppress
    assert scope.allows("140001") and scope.can_upload("140003")
    assert not scope.allows("140002") and not scope.can_upload("140002") and not scope.can_manage
    assert list(scope.filter(ROWS)["urn"]) == ["140001", "140003"]  # the row with no school goes too


def test_filter_compares_urns_as_text_and_uses_the_named_column():
    scope = scope_for(User("dsl@school.example", None, DSL, ("140002",)))
    frame = pd.DataFrame({"school": [140001, 140002], "n": [5, 6]})
    assert list(scope.filter(frame, column="school")["n"]) == [6]
    assert scope.allows(140002)


def test_filter_returns_a_copy():
    scope = scope_for(User("ceo@trust.example", None, TRUST_LEADER, ()))
    seen = scope.filter(ROWS)
    seen.loc[0, "value"] = 100.0
    assert ROWS.loc[0, "value"] == 1.0


def test_a_removed_user_sees_nothing_and_changes_nothing():
    for role, urns in ((TRUST_LEADER, ()), (TRUSTEE, ()), (DSL, ("140001",))):
        scope = scope_for(User("gone@trust.example", None, role, urns, disabled=True))
        assert scope.filter(ROWS).empty and list(scope.filter(ROWS).columns) == ["urn", "value"]
        assert not scope.allows("140001") and not scope.can_upload("140001") and not scope.can_manage


def test_an_unknown_role_is_refused():
    with pytest.raises(ValueError, match="not a role"):
        scope_for(User("x@trust.example", None, "governor", ()))


def test_a_scope_cannot_be_changed():
    scope = scope_for(User("dsl@school.example", None, DSL, ("140001",)))
    with pytest.raises(AttributeError):
        scope.urns = None

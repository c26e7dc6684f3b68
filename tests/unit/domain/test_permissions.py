"""The permission table of requests.md 1.8, one row per (caller, action), and the refusal each caller gets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.accounts import User
from domain.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from domain.permissions import Action, Actor, RequestVisibility, allowed, request_visibility, require
from domain.proposals import Proposal, Role

NOW = datetime(2026, 11, 20, tzinfo=UTC)
PI, CI, OUTSIDER, STAFF, STAFF_VIEW, STAFF_PI = 1, 2, 3, 4, 5, 6


def _user(user_id: int, *, staff: bool = False, staff_view: bool = False, authored_only: bool = False) -> User:
    return User(
        user_id,
        f"user{user_id}",
        "hash",
        is_staff=staff,
        staff_view=staff_view,
        view_authored_requests_only=authored_only,
    )


CALLERS = {
    "anonymous": Actor.of(None),
    "outsider": Actor.of(_user(OUTSIDER)),
    "CI": Actor.of(_user(CI)),
    "PI": Actor.of(_user(PI)),
    "staff": Actor.of(_user(STAFF, staff=True)),
    "staff-view": Actor.of(_user(STAFF_VIEW, staff=True, staff_view=True)),
    # staff who is also PI of the proposal: the union of both rows
    "staff PI": Actor.of(_user(STAFF_PI, staff=True)),
}


def proposal(*, public: bool = False, cis_see_all: bool = False) -> Proposal:
    p = Proposal.open("P1", {"public": public, "cis_see_all_requests": cis_see_all}, [PI], NOW)
    p.add_member(CI, Role.CI)
    return p


# (action, caller) -> expected outcome on a private proposal: "ok", or the error the caller gets.
OK, NO_AUTH, HIDDEN, DENIED = "ok", AuthenticationError, NotFoundError, PermissionDeniedError
TABLE: dict[Action, dict[str, object]] = {
    Action.READ_PROPOSAL: {
        "anonymous": NO_AUTH,
        "outsider": HIDDEN,
        "CI": OK,
        "PI": OK,
        "staff": HIDDEN,
        "staff-view": OK,
        "staff PI": OK,
    },
    Action.SUBMIT: {
        "anonymous": NO_AUTH,
        "outsider": HIDDEN,
        "CI": OK,
        "PI": OK,
        "staff": HIDDEN,
        "staff-view": DENIED,
        "staff PI": OK,
    },
    Action.MANAGE_MEMBERS: {
        "anonymous": NO_AUTH,
        "outsider": HIDDEN,
        "CI": DENIED,
        "PI": OK,
        "staff": HIDDEN,
        "staff-view": DENIED,
        "staff PI": OK,
    },
    Action.LIST_INVITATIONS: {
        "anonymous": NO_AUTH,
        "outsider": HIDDEN,
        "CI": DENIED,
        "PI": OK,
        "staff": HIDDEN,
        "staff-view": OK,
        "staff PI": OK,
    },
    Action.ADMINISTER: {
        "anonymous": NO_AUTH,
        "outsider": HIDDEN,
        "CI": DENIED,
        "PI": DENIED,
        "staff": OK,
        "staff-view": OK,
        "staff PI": OK,
    },
    Action.CANCEL_REQUESTS: {
        "anonymous": NO_AUTH,
        "outsider": HIDDEN,
        "CI": OK,
        "PI": OK,
        "staff": HIDDEN,
        "staff-view": OK,
        "staff PI": OK,
    },
    Action.SUSPEND_REQUESTS: {
        "anonymous": NO_AUTH,
        "outsider": HIDDEN,
        "CI": DENIED,
        "PI": DENIED,
        "staff": OK,
        "staff-view": OK,
        "staff PI": OK,
    },
    Action.SET_REQUEST_VISIBILITY: {
        "anonymous": NO_AUTH,
        "outsider": HIDDEN,
        "CI": DENIED,
        "PI": OK,
        "staff": HIDDEN,
        "staff-view": DENIED,
        "staff PI": OK,
    },
    Action.READ_DRAFTS: {
        "anonymous": NO_AUTH,
        "outsider": HIDDEN,
        "CI": OK,
        "PI": OK,
        "staff": HIDDEN,
        "staff-view": OK,
        "staff PI": OK,
    },
    # Staff-view read every draft but change none of a proposal they are not in.
    Action.WRITE_DRAFTS: {
        "anonymous": NO_AUTH,
        "outsider": HIDDEN,
        "CI": OK,
        "PI": OK,
        "staff": HIDDEN,
        "staff-view": DENIED,
        "staff PI": OK,
    },
}
CASES = [(action, caller, expected) for action, row in TABLE.items() for caller, expected in row.items()]


def _proposal_with_staff_pi() -> Proposal:
    p = proposal()
    p.add_member(STAFF_PI, Role.PI)
    return p


@pytest.mark.parametrize(("action", "caller", "expected"), CASES, ids=[f"{a.name}-{c}" for a, c, _ in CASES])
def test_permission_table(action: Action, caller: str, expected: object) -> None:
    target = _proposal_with_staff_pi()
    actor = CALLERS[caller]
    if expected == OK:
        require(action, actor, target)
        assert allowed(action, actor, target)
    else:
        assert isinstance(expected, type)
        with pytest.raises(expected):
            require(action, actor, target)


@pytest.mark.parametrize(
    ("caller", "expected"),
    [("anonymous", NO_AUTH), ("outsider", DENIED), ("PI", DENIED), ("staff", OK), ("staff-view", OK)],
)
def test_observatory_wide_actions_need_staff(caller: str, expected: object) -> None:
    for action in (Action.ADMINISTER, Action.OPERATE, Action.EDIT_OBSERVATORY):
        if expected == OK:
            require(action, CALLERS[caller])
        else:
            assert isinstance(expected, type)
            with pytest.raises(expected):
                require(action, CALLERS[caller])


def test_semesters_are_readable_by_anyone() -> None:
    for actor in CALLERS.values():
        require(Action.READ_SEMESTERS, actor)


def test_every_action_has_a_row_in_the_table() -> None:
    from domain.permissions import PERMISSIONS

    assert set(PERMISSIONS) == set(Action)


def test_a_superuser_counts_as_staff() -> None:
    superuser = User(9, "root", "hash", is_superuser=True)
    require(Action.ADMINISTER, Actor.of(superuser))


def test_staff_view_is_ignored_on_a_user_who_is_not_staff() -> None:
    # The profile refuses staff_view for non-staff; even a stored one grants nothing.
    actor = Actor.of(_user(OUTSIDER, staff_view=True))
    with pytest.raises(NotFoundError):
        require(Action.READ_PROPOSAL, actor, proposal())


VISIBILITY = [
    # caller, public, cis_see_all, expected
    ("anonymous", False, False, RequestVisibility.NONE),
    ("anonymous", True, False, RequestVisibility.ALL),
    ("outsider", False, False, RequestVisibility.NONE),
    # the faithful quirk: a logged-in non-member does not see a public proposal's requests in lists
    ("outsider", True, False, RequestVisibility.NONE),
    ("CI", False, False, RequestVisibility.OWN),
    ("CI", False, True, RequestVisibility.ALL),
    ("PI", False, False, RequestVisibility.ALL),
    ("staff", False, False, RequestVisibility.NONE),
    ("staff", True, False, RequestVisibility.NONE),
    ("staff-view", False, False, RequestVisibility.ALL),
    ("staff-view", True, False, RequestVisibility.ALL),
]


@pytest.mark.parametrize(("caller", "public", "cis_see_all", "expected"), VISIBILITY)
def test_which_requests_each_caller_sees(caller: str, public: bool, cis_see_all: bool, expected: object) -> None:
    assert request_visibility(CALLERS[caller], proposal(public=public, cis_see_all=cis_see_all)) == expected


def test_a_member_who_asked_for_authored_requests_only_sees_their_own() -> None:
    pi = Actor.of(_user(PI, authored_only=True))
    assert request_visibility(pi, proposal()) == RequestVisibility.OWN
    ci = Actor.of(_user(CI, authored_only=True))
    assert request_visibility(ci, proposal(cis_see_all=True)) == RequestVisibility.OWN

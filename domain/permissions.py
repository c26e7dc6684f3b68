"""Who may do what: the one table of roles and actions (requests.md 1.8), and the checks built on it.

Every use case asks ``require(action, actor, proposal)``. The answer follows the portal's rules: callers
without credentials are refused as unauthenticated, objects the caller may not read are "not found" (their
existence is not revealed), and objects they may read but not change are "permission denied".
"""

from __future__ import annotations

import enum

from attrs import frozen

from domain.accounts import User
from domain.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from domain.proposals import Proposal, Role

OPERATOR_ID = 0  # database ids start at 1, so the operator is nobody's account
NO_CREDENTIALS = "Authentication credentials were not provided."
FORBIDDEN = "You do not have permission to perform this action."


class Standing(enum.Enum):
    """What a caller is with respect to one proposal; a caller may hold several (a staff member who is PI)."""

    ANONYMOUS = "anonymous"
    USER = "user"  # authenticated, not a member
    CI = "CI"
    PI = "PI"
    STAFF = "staff"
    STAFF_VIEW = "staff-view"


class Action(enum.Enum):
    LIST_OWN = "list one's own proposals, memberships and invitations, and read one's profile"
    READ_PROPOSAL = "read the proposal, its members and allocations"
    READ_ALL_REQUESTS = "read every member's requests of the proposal"
    READ_OWN_REQUESTS = "read the requests one submitted to the proposal"
    READ_PUBLIC_REQUESTS = "read the requests of a public proposal"
    SUBMIT = "submit or validate requests on the proposal"
    CANCEL_REQUESTS = "cancel request groups of the proposal"
    MANAGE_MEMBERS = "invite, limit and remove CIs"
    LIST_INVITATIONS = "list the proposal's invitations"
    SET_REQUEST_VISIBILITY = "choose whether CIs see every member's requests"
    ADMINISTER = "create and edit proposals, semesters and time allocations"
    OPERATE = "use the scheduler and telescope endpoints"
    EDIT_OBSERVATORY = "change the configuration database and downtimes"
    SUSPEND_REQUESTS = "suspend requests"
    READ_SEMESTERS = "read semesters"
    READ_DRAFTS = "read the proposal's drafts"
    WRITE_DRAFTS = "write, change and delete drafts in the proposal"


_S = Standing
PERMISSIONS: dict[Action, frozenset[Standing]] = {
    Action.LIST_OWN: frozenset({_S.USER}),
    Action.READ_PROPOSAL: frozenset({_S.CI, _S.PI, _S.STAFF_VIEW}),
    Action.READ_ALL_REQUESTS: frozenset({_S.PI, _S.STAFF_VIEW}),
    Action.READ_OWN_REQUESTS: frozenset({_S.CI, _S.PI, _S.STAFF_VIEW}),
    Action.READ_PUBLIC_REQUESTS: frozenset({_S.ANONYMOUS, _S.STAFF_VIEW}),
    Action.SUBMIT: frozenset({_S.CI, _S.PI}),
    Action.CANCEL_REQUESTS: frozenset({_S.CI, _S.PI, _S.STAFF_VIEW}),
    Action.MANAGE_MEMBERS: frozenset({_S.PI}),
    Action.LIST_INVITATIONS: frozenset({_S.PI, _S.STAFF_VIEW}),
    Action.SET_REQUEST_VISIBILITY: frozenset({_S.PI}),
    Action.ADMINISTER: frozenset({_S.STAFF, _S.STAFF_VIEW}),
    Action.OPERATE: frozenset({_S.STAFF, _S.STAFF_VIEW}),
    Action.EDIT_OBSERVATORY: frozenset({_S.STAFF, _S.STAFF_VIEW}),
    Action.SUSPEND_REQUESTS: frozenset({_S.STAFF, _S.STAFF_VIEW}),
    Action.READ_SEMESTERS: frozenset(Standing),
    # Every member reads and changes every draft of the proposal (api.md 4.4, as upstream). Staff-view read them
    # all, as they read every proposal's requests, to help a member with a form; writing stays with members, as
    # a draft is nobody's work but theirs and nothing in the network runs on one.
    Action.READ_DRAFTS: frozenset({_S.CI, _S.PI, _S.STAFF_VIEW}),
    Action.WRITE_DRAFTS: frozenset({_S.CI, _S.PI}),
}
# Actions open to callers without credentials; every other one needs a token first.
_ANONYMOUS_ACTIONS = frozenset(a for a, allowed in PERMISSIONS.items() if _S.ANONYMOUS in allowed)


@frozen
class Actor:
    """The caller as the rules see them: an authenticated user or nobody."""

    user_id: int | None = None
    is_staff: bool = False
    staff_view: bool = False
    view_authored_requests_only: bool = False
    # Request groups record their submitter by username; "own requests" are matched on it.
    username: str = ""

    @classmethod
    def anonymous(cls) -> Actor:
        return cls()

    @classmethod
    def operator(cls) -> Actor:
        """Whoever runs the administrator's command line on the server: staff viewing as staff, no account."""
        return cls(OPERATOR_ID, is_staff=True, staff_view=True)

    @classmethod
    def of(cls, user: User | None) -> Actor:
        if user is None:
            return cls()
        return cls(user.id, user.staff, user.staff and user.staff_view, user.view_authored_requests_only, user.username)

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None

    def standings(self, proposal: Proposal | None = None) -> frozenset[Standing]:
        """Everything the caller is with respect to the proposal (or to the observatory, without one)."""
        if not self.authenticated:
            return frozenset({_S.ANONYMOUS})
        found = {_S.USER}
        if self.is_staff:
            found.add(_S.STAFF)
        if self.staff_view:
            found.add(_S.STAFF_VIEW)
        role = proposal.role_of(self.user_id) if proposal is not None else None
        if role is Role.PI:
            found.add(_S.PI)
        elif role is Role.CI:
            found.add(_S.CI)
        return frozenset(found)


def allowed(action: Action, actor: Actor, proposal: Proposal | None = None) -> bool:
    """Whether the table lets the caller do this (on this proposal)."""
    return bool(PERMISSIONS[action] & actor.standings(proposal))


def require(action: Action, actor: Actor, proposal: Proposal | None = None) -> None:
    """Refuse the action unless allowed: unauthenticated, then not found (proposal not readable), then denied."""
    if not actor.authenticated and action not in _ANONYMOUS_ACTIONS:
        raise AuthenticationError(NO_CREDENTIALS)
    if allowed(action, actor, proposal):
        return
    if proposal is not None and not can_read(actor, proposal):
        raise NotFoundError(f"proposal {proposal.id}")
    raise PermissionDeniedError(FORBIDDEN)


def can_read(actor: Actor, proposal: Proposal) -> bool:
    return allowed(Action.READ_PROPOSAL, actor, proposal)


class RequestVisibility(enum.Enum):
    """How much of a proposal's requests a caller sees."""

    NONE = "none"
    OWN = "own"  # only the groups the caller submitted
    ALL = "all"


def request_visibility(actor: Actor, proposal: Proposal) -> RequestVisibility:
    """Which of the proposal's requests the caller sees (requests.md 1.8, with the issue's CI rule).

    PIs and staff-view see all; a CI sees all members' requests only when the PI allows it; anybody who
    asked to see only their own (``view_authored_requests_only``) gets that. Public proposals are readable
    by anonymous callers; an authenticated non-member does not see them in lists (a faithful quirk)."""
    standings = actor.standings(proposal)
    sees_all = allowed(Action.READ_ALL_REQUESTS, actor, proposal) or (
        _S.CI in standings and proposal.cis_see_all_requests
    )
    if sees_all and not (actor.view_authored_requests_only and not actor.staff_view):
        return RequestVisibility.ALL
    if allowed(Action.READ_OWN_REQUESTS, actor, proposal):
        return RequestVisibility.OWN
    if proposal.public and allowed(Action.READ_PUBLIC_REQUESTS, actor, proposal):
        return RequestVisibility.ALL
    return RequestVisibility.NONE

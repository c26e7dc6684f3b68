"""Use cases of request groups: submit (with every check of requests.md 3 and the IPP debit of 5.2), the
validate and max_allowable_ipp dry runs, and cancel (with its IPP credit).

One function, ``check_submission``, runs the whole validation for all three entry points, so a dry run and
a submission can never disagree. Visibility is optional here: without the port the pragmatic rule of 3.8 is
skipped (the validate answer then reports a largest interval of 0).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from attrs import frozen

from application.accounting import move_ipp_for_state_changes, request_shares
from application.commands import CancelRequestGroup, ExpireRequestGroups, SubmitRequestGroup, SuspendRequest
from application.handlers.observations import cancel_observations_of
from application.ports import Clock, RequestGroupQuery, UnitOfWork
from domain.duration import (
    request_durations,
    time_check_durations_by_key,
)
from domain.errors import NotFoundError, ValidationError
from domain.observatory import Observatory
from domain.permissions import Action, Actor, RequestVisibility, request_visibility, require
from domain.proposals import Proposal, Semester, semester_containing
from domain.request_validation import (
    RequestGroupSubmission,
    SubmittedRequestGroup,
    ValidatedRequestGroup,
    validate_request_group,
)
from domain.requestgroups import ObservationType, Request, RequestGroup, RequestState, RequestStateChanged
from domain.time_accounting import (
    IppAllowance,
    check_ipp,
    check_time_allocations,
    ipp_change_factor,
    ipp_hours,
    max_allowable_ipp,
    move_ipp,
    summed_ipp_hours,
)

TIME_LIMIT_EXCEEDED = "This request's duration will exceed the time limit set for your account on this proposal."
# What a visibility check hands validation: the largest interval of a request, and its messages (3.8).
LargestInterval = Callable[[Request], float]
VisibilityErrors = Callable[[Request, float], Sequence[str]]


@frozen
class VisibilityHooks:
    largest_interval: LargestInterval
    visibility_errors: VisibilityErrors
    # Optional: answers for all of a submission's requests at once, before validation asks one by one.
    prefetch: Callable[[Sequence[Request]], None] | None = None


# Builds the hooks inside a unit of work (they read the observatory and downtimes through it).
HooksFactory = Callable[[UnitOfWork, datetime], VisibilityHooks]


@frozen
class CheckedSubmission:
    """A submission that passed every rule, with what storing it needs."""

    validated: ValidatedRequestGroup
    observatory: Observatory
    semesters: tuple[Semester, ...]


def check_submission(
    uow: UnitOfWork,
    actor: Actor,
    submission: SubmittedRequestGroup,
    now: datetime,
    hooks: VisibilityHooks | None = None,
    *,
    for_update: bool = False,
) -> CheckedSubmission:
    """Every rule of requests.md 3.1 in its order (call inside ``with uow``); ValidationError when one breaks.
    ``for_update`` locks the proposal, whose hours a submission then spends."""
    require(Action.LIST_OWN, actor)  # submitting needs an account; membership is a validation rule (T1)
    proposal = uow.proposals.get(submission.proposal, for_update=for_update)
    observatory = uow.observatory.get()
    semesters = tuple(uow.semesters.all())

    def time_limit(proposal: Proposal, requests: tuple[Request, ...]) -> None:
        membership = proposal.membership_of(actor.user_id)
        if membership is None or membership.time_limit_s < 0:
            return
        current = semester_containing(semesters, now)
        since = current.start if current is not None else now
        used = uow.request_groups.time_used(proposal.id, actor.username, since)
        if used + sum(r.duration or 0 for r in requests) > membership.time_limit_s:
            raise ValidationError.general(TIME_LIMIT_EXCEEDED)

    if hooks is not None and hooks.prefetch is not None and submission.observation_type.is_scheduled:
        # Only requests whose windows fit one semester, as validation will insist before it asks about the sky:
        # the cost of the sky grows with the windows' span, and an unchecked payload may span centuries.
        hooks.prefetch([r for r in submission.requests if _fits_a_semester(r, semesters)])
    validated = validate_request_group(
        submission,
        observatory=observatory,
        semesters=semesters,
        proposal=proposal,
        actor=actor,
        now=now,
        largest_interval=hooks.largest_interval if hooks else None,
        visibility_errors=hooks.visibility_errors if hooks else None,
        time_limit_check=time_limit,
    )
    if validated.observation_type.is_scheduled:
        _check_time(validated, observatory, semesters, now)
    return CheckedSubmission(validated, observatory, semesters)


def _fits_a_semester(request: Request, semesters: Sequence[Semester]) -> bool:
    start, end = request.earliest_window_start, request.latest_window_end
    return start is not None and end is not None and any(s.covers(start, end) for s in semesters)


def _check_time(
    validated: ValidatedRequestGroup,
    observatory: Observatory,
    semesters: Sequence[Semester],
    now: datetime,
) -> None:
    """Group rules 9 and 10 of 3.1: time allocation per key (5.1), then the IPP balance (5.2)."""
    requests = list(validated.requests)
    needed = time_check_durations_by_key(requests, validated.operator, observatory, semesters)
    windows = [w for r in requests for w in r.windows]
    errors = check_time_allocations(validated.proposal, needed, validated.observation_type, windows, now)
    if errors:
        raise ValidationError.general(errors[0])
    hours = summed_ipp_hours(request_shares(r, observatory, semesters) for r in requests)
    errors = check_ipp(validated.proposal, hours, validated.ipp_value, validated.observation_type)
    if errors:
        raise ValidationError.general(errors[0])


# ---------------------------------------------------------------------------------------------------------
# Commands


def submit_request_group(
    cmd: SubmitRequestGroup, uow: UnitOfWork, clock: Clock, visibility_hooks: HooksFactory | None = None
) -> RequestGroup:
    """Store a valid group and debit its IPP in one transaction; a refusal stores and moves nothing."""
    now = clock.now()
    with uow:
        hooks = visibility_hooks(uow, now) if visibility_hooks else None
        checked = check_submission(uow, cmd.actor, cmd.submission, now, hooks, for_update=True)
        validated = checked.validated
        group = validated.submit(cmd.actor.username, now)
        if group.observation_type is ObservationType.NORMAL:
            factor = ipp_change_factor(group.ipp_value, RequestState.PENDING, RequestState.PENDING, submitted=True)
            for request in group.requests:
                move_ipp(
                    validated.proposal,
                    ipp_hours(request_shares(request, checked.observatory, checked.semesters)),
                    factor,
                )
        uow.request_groups.add(group)
        uow.commit()
        return group


def visible_group(uow: UnitOfWork, actor: Actor, group: RequestGroup | None) -> RequestGroup:
    """The group if the caller may see it (requests.md 1.8); NotFoundError otherwise, never revealing it."""
    if group is None:
        raise NotFoundError("request group")
    proposal = uow.proposals.get(group.proposal)
    if proposal is None:
        raise NotFoundError("request group")
    seen = request_visibility(actor, proposal)
    if seen is RequestVisibility.ALL or (seen is RequestVisibility.OWN and group.submitter == actor.username):
        return group
    raise NotFoundError("request group")


def cancel_request_group(cmd: CancelRequestGroup, uow: UnitOfWork, clock: Clock) -> RequestGroup:
    """Cancel a visible group of one's proposal; already canceled is a no-op, a finished group is refused."""
    now = clock.now()
    with uow:
        group = visible_group(uow, cmd.actor, uow.request_groups.get(cmd.group_id, for_update=True))
        proposal = uow.proposals.get(group.proposal, for_update=True)
        require(Action.CANCEL_REQUESTS, cmd.actor, proposal)
        assert proposal is not None  # noqa: S101 - visible_group found it
        seen = len(group.events)
        if group.cancel(now):
            changes = group.events[seen:]
            move_ipp_for_state_changes(group, changes, proposal, uow)
            canceled = {e.request_id for e in changes if isinstance(e, RequestStateChanged)}
            cancel_observations_of([r for r in group.requests if r.id in canceled], uow, now)
            uow.commit()
        return group


def suspend_request(cmd: SuspendRequest, uow: UnitOfWork, clock: Clock) -> Request:
    """Staff only, on any request whatever staff_view says (an operations action, requests.md 1.8 and T25)."""
    require(Action.SUSPEND_REQUESTS, cmd.actor)
    with uow:
        group = uow.request_groups.containing_request(cmd.request_id, for_update=True)
        if group is None:
            raise NotFoundError(f"request {cmd.request_id}")
        request = group.request(cmd.request_id)
        group.suspend(request, cmd.until, clock.now())
        uow.commit()
        return request


EXPIRY_BATCH = 500


def expire_request_groups(cmd: ExpireRequestGroups, uow: UnitOfWork, clock: Clock) -> int:
    """Expire every PENDING request whose time is over, crediting back IPP; returns how many (requests.md 6.6:
    scheduled types when their last window has ended, DIRECT and REAL_TIME when their observation has)."""
    now = clock.now()
    expired = 0
    offset = 0
    while True:
        with uow:
            query = RequestGroupQuery(states=(RequestState.PENDING,), limit=EXPIRY_BATCH, offset=offset)
            _, groups = uow.request_groups.search(query)
            for group in groups:
                seen = len(group.events)
                done = (
                    group.expire(now) if group.observation_type.is_scheduled else _expire_unscheduled(group, uow, now)
                )
                if done:
                    proposal = uow.proposals.get(group.proposal, for_update=True)
                    if proposal is not None:
                        move_ipp_for_state_changes(group, group.events[seen:], proposal, uow)
                    expired += len(done)
            uow.commit()
        if len(groups) < EXPIRY_BATCH:
            return expired
        # Expired groups leave the PENDING set; the ones still pending keep their place in the order.
        offset += sum(1 for g in groups if g.state is RequestState.PENDING)


def _expire_unscheduled(group: RequestGroup, uow: UnitOfWork, now: datetime) -> list[Request]:
    """A DIRECT or REAL_TIME request has no windows: its time is over when an observation of it has ended."""
    expired = []
    for request in group.requests:
        if request.state is not RequestState.PENDING or request.id is None:
            continue
        if any(o.end < now for o in uow.observations.for_request(request.id)) and group.expire_request(request, now):
            expired.append(request)
    return expired


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    SubmitRequestGroup: submit_request_group,
    CancelRequestGroup: cancel_request_group,
    SuspendRequest: suspend_request,
    ExpireRequestGroups: expire_request_groups,
}


# ---------------------------------------------------------------------------------------------------------
# Dry runs (nothing stored)


def validate_submission(
    uow: UnitOfWork, actor: Actor, submission: SubmittedRequestGroup, now: datetime, hooks_factory: HooksFactory | None
) -> dict[str, Any]:
    """``POST /api/requestgroups/validate/``: ``{"request_durations", "errors"}``, errors inside (4.4)."""
    with uow:
        hooks = hooks_factory(uow, now) if hooks_factory else None
        try:
            checked = check_submission(uow, actor, submission, now, hooks)
        except ValidationError as error:
            return {"request_durations": {}, "errors": error.errors}
        requests = checked.validated.requests
        largest = [hooks.largest_interval(r) if hooks else 0.0 for r in requests]
    report = request_durations(requests, largest, checked.observatory)
    return {"request_durations": report, "errors": {}}


def max_allowable_ipp_for(
    uow: UnitOfWork, actor: Actor, submission: SubmittedRequestGroup, now: datetime, hooks_factory: HooksFactory | None
) -> dict[str, Any]:
    """``POST /api/requestgroups/max_allowable_ipp/`` (5.3): validated with ipp_value 1.0, so IPP never blocks."""
    neutral = RequestGroupSubmission(
        submission.proposal,
        submission.name,
        submission.observation_type,
        submission.operator,
        1.0,
        submission.requests,  # type: ignore[arg-type]  # the converter makes the tuple; mypy's attrs plugin wants one
    )
    with uow:
        try:
            checked = check_submission(uow, actor, neutral, now, hooks_factory(uow, now) if hooks_factory else None)
        except ValidationError as error:
            return {"errors": error.errors}
    validated = checked.validated
    hours = summed_ipp_hours(request_shares(r, checked.observatory, checked.semesters) for r in validated.requests)
    allowances: dict[str, dict[str, IppAllowance]] = max_allowable_ipp(validated.proposal, hours)
    return dict(allowances)

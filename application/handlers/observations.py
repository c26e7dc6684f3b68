"""Use cases of observations: creating them (the scheduler's or a site's POST), the telescope's reports on their
configuration statuses, staff verdicts (BAD_DATA, a later end), and what cancelling a request does to them.

One PATCH of a status is one transaction (scheduler.md 6.3): state and summary, charge, observation state, request
state, group state, IPP, in that order. Locks are taken request group first, then observation, then proposal, the
order the cancel of a group uses too, so a report and a cancel never wait on each other in a circle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from attrs import frozen

from application.accounting import charge_status, move_ipp_for_state_changes, refund
from application.commands import (
    CancelObservations,
    ReportConfigurationStatus,
    ReviseObservation,
    ScheduleObservations,
)
from application.ports import Clock, ObservationQuery, UnitOfWork
from domain.duration import configuration_duration, overheads_from
from domain.errors import ErrorTree, NotFoundError, ValidationError
from domain.observations import (
    ConfigurationStatus,
    Disposal,
    Observation,
    ObservationPlan,
    ObservationState,
    place,
    settle_request,
)
from domain.observatory import Observatory
from domain.permissions import Action, Actor, allowed, require
from domain.proposals import Proposal
from domain.requestgroups import ObservationType, Request, RequestGroup


@frozen
class ScheduledObservations:
    """What a POST of observations did: the observations stored, and the errors of the items refused, by index."""

    created: tuple[Observation, ...]
    errors: dict[int, ErrorTree]


def _may_place(actor: Actor, proposal: Proposal | None) -> bool:
    """Staff place anything; members of a proposal for direct submission place its requests (api.md 6)."""
    if allowed(Action.OPERATE, actor):
        return True
    return proposal is not None and proposal.direct_submission and allowed(Action.SUBMIT, actor, proposal)


def _direct_proposals(actor: Actor, uow: UnitOfWork) -> frozenset[str]:
    """The direct-submission proposals the caller is a member of."""
    if actor.user_id is None:
        return frozenset()
    return frozenset(p.id for p in uow.proposals.for_member(actor.user_id) if p.direct_submission)


def _require_placer(actor: Actor, uow: UnitOfWork) -> None:
    """Staff, or a member of some direct-submission proposal; anyone else is refused outright."""
    if not allowed(Action.OPERATE, actor) and not _direct_proposals(actor, uow):
        require(Action.OPERATE, actor)


def schedule_observations(cmd: ScheduleObservations, uow: UnitOfWork, clock: Clock) -> ScheduledObservations:
    """Store the planned observations if each is valid; otherwise store each valid one alone and report the rest
    (api.md 6: the scheduler POSTs a telescope's night as one list)."""
    now = clock.now()
    with uow:
        _require_placer(cmd.actor, uow)
        observatory = uow.observatory.get()
        created: list[Observation] = []
        errors: dict[int, ErrorTree] = {}
        for index, plan in enumerate(cmd.plans):
            try:
                observation = _placed(plan, cmd.actor, uow, observatory, now)
            except ValidationError as error:
                errors[index] = error.errors
                continue
            uow.observations.add(observation)
            created.append(observation)
        uow.commit()
        return ScheduledObservations(tuple(created), errors)


def _placed(
    plan: ObservationPlan, actor: Actor, uow: UnitOfWork, observatory: Observatory, now: datetime
) -> Observation:
    group = uow.request_groups.containing_request(plan.request_id, for_update=True)
    proposal = uow.proposals.get(group.proposal) if group is not None else None
    if group is None or not _may_place(actor, proposal):
        raise ValidationError.on("request", f'Invalid pk "{plan.request_id}" - object does not exist.')
    return place(plan, group, group.request(plan.request_id), observatory, now)


def _locked(uow: UnitOfWork, found: Observation | None) -> tuple[RequestGroup, Request, Observation]:
    """For an observation read without a lock: its group (locked first), request, and the observation again,
    locked and fresh."""
    group = uow.request_groups.containing_request(found.request_id, for_update=True) if found else None
    observation = uow.observations.get(found.id, for_update=True) if found and found.id and group else None
    if group is None or observation is None:
        raise NotFoundError("observation")
    return group, group.request(observation.request_id), observation


def report_configuration_status(
    cmd: ReportConfigurationStatus, uow: UnitOfWork, clock: Clock, max_failures_per_request: int
) -> tuple[Observation, ConfigurationStatus]:
    """Apply a telescope's report on one configuration status with every consequence of scheduler.md 6.3."""
    require(Action.OPERATE, cmd.actor)
    now = clock.now()
    with uow:
        holder = uow.observations.containing_status(cmd.status_id)
        if holder is None:
            raise NotFoundError(f"configuration status {cmd.status_id}")
        group, request, observation = _locked(uow, holder)
        status = observation.status(cmd.status_id)
        _check_new_end(cmd, observation, now)
        proposal = uow.proposals.get(group.proposal, for_update=True)
        observatory, semesters = uow.observatory.get(), uow.semesters.all()
        observation.report(status, state=cmd.state, summary=cmd.summary, now=now)
        if cmd.summary is not None and proposal is not None:
            charge_status(group, request, observation, status, proposal, observatory, semesters)
        seen = len(group.events)
        failed = sum(
            1
            for o in uow.observations.for_request(observation.request_id)
            if (o.state if o.id != observation.id else observation.state) is ObservationState.FAILED
        )
        settle_request(
            group, request, observation, failed_observations=failed, max_failures=max_failures_per_request, now=now
        )
        if proposal is not None:
            move_ipp_for_state_changes(group, group.events[seen:], proposal, uow)
        new_end = _reported_end(cmd, observation, status, request, observatory)
        if new_end is not None:
            _move_end(observation, new_end, group.observation_type, uow, now)
        uow.commit()
        return observation, status


def _check_new_end(cmd: ReportConfigurationStatus, observation: Observation, now: datetime) -> None:
    if cmd.end is not None and cmd.exposures_start_at is not None:
        raise ValidationError.general("Cannot specify both end and exposures_start_at")
    if cmd.end is not None and cmd.end <= now:
        raise ValidationError.on("end", "End time must be in the future")
    if cmd.exposures_start_at is not None and cmd.exposures_start_at < observation.start:
        raise ValidationError.on("exposures_start_at", "Must be after the observation start")


def _reported_end(
    cmd: ReportConfigurationStatus,
    observation: Observation,
    status: ConfigurationStatus,
    request: Request,
    observatory: Observatory,
) -> datetime | None:
    """The observation's new end from a predicted end of this configuration (the later ones still to run after
    it) or from when its exposures start (this one and the later ones to run), scheduler.md 6.2."""
    if cmd.end is None and cmd.exposures_start_at is None:
        return None
    statuses = observation.configuration_statuses
    position = next(i for i, s in enumerate(statuses) if s is status)
    still_to_run = statuses[position + 1 :] if cmd.end is not None else statuses[position:]
    configurations = {c.id: c for c in request.configurations}
    overheads = overheads_from(observatory)
    remaining = 0.0
    for later in still_to_run:
        configuration = configurations[later.configuration_id]
        remaining += configuration_duration(configuration, overheads(configuration.instrument_type))
    base = cmd.end if cmd.end is not None else cmd.exposures_start_at
    assert base is not None  # noqa: S101 - one of the two is set, checked above
    return base + timedelta(seconds=remaining)


def _move_end(
    observation: Observation, new_end: datetime, observation_type: ObservationType, uow: UnitOfWork, now: datetime
) -> None:
    """Set the observation's end; when it grows, cancel the PENDING observations it now overlaps on its telescope,
    sparing rapid-response ones unless this one is rapid response itself (scheduler.md 6.2)."""
    old_end = observation.end
    observation.move_end(new_end, now)
    if new_end <= old_end:
        return
    spared = () if observation_type is ObservationType.RAPID_RESPONSE else (ObservationType.RAPID_RESPONSE,)
    query = ObservationQuery(
        sites=(observation.site,),
        enclosures=(observation.enclosure,),
        telescopes=(observation.telescope,),
        states=(ObservationState.PENDING,),
        start_before=new_end,
        end_after=old_end,
        observation_types=tuple(t for t in ObservationType if t not in spared),
    )
    _, overlapping = uow.observations.search(query)
    cancel_observations([o for o in overlapping if o.id != observation.id], uow, now)


def cancel_observations(observations: Iterable[Observation], uow: UnitOfWork, now: datetime) -> dict[Disposal, int]:
    """Take observations off the schedule by the rules of requests.md 6.6; how many went which way."""
    counts = dict.fromkeys(Disposal, 0)
    for listed in observations:
        if listed.id is None:
            continue
        observation = uow.observations.get(listed.id, for_update=True)
        if observation is None:
            continue
        disposal = observation.cancel(now)
        if disposal is Disposal.DELETE:
            uow.observations.delete(observation)
        counts[disposal] += 1
    return counts


def cancel_observations_of(requests: Sequence[Request], uow: UnitOfWork, now: datetime) -> dict[Disposal, int]:
    """What cancelling these requests does to their observations (requests.md 6.6)."""
    found = [o for r in requests if r.id is not None for o in uow.observations.for_request(r.id)]
    return cancel_observations(found, uow, now)


PREEMPTION_NEEDED = "Cannot cancel IN_PROGRESS observations unless preemption_enabled is True"
# Every observation the cancel may match: the schedule of a network for weeks is far below this.
CANCEL_LIMIT = 1_000_000


def cancel_scheduled_observations(cmd: CancelObservations, uow: UnitOfWork, clock: Clock) -> int:
    """``POST /api/observations/cancel/``: PENDING and IN_PROGRESS observations matched by id or by time and
    telescope leave the schedule by the rules of requests.md 6.6; how many did. Members of direct-submission
    proposals reach only those proposals' observations."""
    now = clock.now()
    with uow:
        _require_placer(cmd.actor, uow)
        visible = None if allowed(Action.OPERATE, cmd.actor) else _direct_proposals(cmd.actor, uow)
        open_states = (ObservationState.PENDING, ObservationState.IN_PROGRESS)
        if cmd.ids:
            query = ObservationQuery(ids=cmd.ids, states=open_states, visible_proposals=visible, limit=CANCEL_LIMIT)
        else:
            kinds = (
                ((ObservationType.NORMAL, ObservationType.TIME_CRITICAL) if cmd.include_normal else ())
                + ((ObservationType.RAPID_RESPONSE,) if cmd.include_rr else ())
                + ((ObservationType.DIRECT,) if cmd.include_direct else ())
            )
            if not kinds:
                return 0
            query = ObservationQuery(
                sites=cmd.sites,
                enclosures=cmd.enclosures,
                telescopes=cmd.telescopes,
                start_before=cmd.end,
                end_after=cmd.start,
                states=open_states,
                observation_types=kinds,
                visible_proposals=visible,
                limit=CANCEL_LIMIT,
            )
        _, found = uow.observations.search(query)
        if cmd.start is not None:  # end_after is inclusive; an observation ending exactly at start does not overlap
            found = [o for o in found if o.end > cmd.start]
        if not cmd.preemption_enabled and any(o.state is ObservationState.IN_PROGRESS for o in found):
            raise ValidationError({"error": PREEMPTION_NEEDED})
        counts = cancel_observations(found, uow, now)
        uow.commit()
        return counts[Disposal.DELETE] + counts[Disposal.CANCEL] + counts[Disposal.ABORT]


def revise_observation(cmd: ReviseObservation, uow: UnitOfWork, clock: Clock) -> Observation:
    """Staff mark an observation BAD_DATA (refunding its charges and giving the request another chance while its
    windows last, requests.md 6.6) or move its end into the future; members of a direct-submission proposal may
    move the end of its observations (api.md 6)."""
    if cmd.bad_data or not cmd.actor.authenticated:
        require(Action.OPERATE, cmd.actor)
    now = clock.now()
    with uow:
        _require_placer(cmd.actor, uow)
        group, request, observation = _locked(uow, uow.observations.get(cmd.observation_id))
        proposal = uow.proposals.get(group.proposal, for_update=True)
        if not _may_place(cmd.actor, proposal):
            raise NotFoundError(f"observation {cmd.observation_id}")
        if cmd.end is not None and cmd.end <= now:
            raise ValidationError.on("end", "End time must be in the future")
        if cmd.bad_data:
            refunds = observation.mark_bad_data(now)
            if proposal is not None:
                refund(group, request, refunds, proposal, uow.semesters.all())
                seen = len(group.events)
                group.reset_after_bad_data(request, now)
                move_ipp_for_state_changes(group, group.events[seen:], proposal, uow)
        if cmd.end is not None:
            _move_end(observation, cmd.end, group.observation_type, uow, now)
        uow.commit()
        return observation


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    ScheduleObservations: schedule_observations,
    ReportConfigurationStatus: report_configuration_status,
    ReviseObservation: revise_observation,
    CancelObservations: cancel_scheduled_observations,
}

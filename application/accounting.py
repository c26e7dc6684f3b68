"""What state changes and telescope reports do to a proposal's hours: IPP moves (requests.md 5.2) and charges and
refunds (5.4), for the handlers of request groups and of observations alike."""

from __future__ import annotations

from collections.abc import Sequence

from application.ports import UnitOfWork
from domain.duration import AllocationKey, rapid_response_charge_cap, request_durations_by_key, semester_of
from domain.observations import ConfigurationStatus, Observation, charge_seconds
from domain.observatory import Observatory
from domain.proposals import Proposal, Semester
from domain.requestgroups import ObservationType, Request, RequestGroup, RequestStateChanged
from domain.time_accounting import POOL_OF, charge_time, hours, ipp_change_factor, ipp_hours, move_ipp

# Pools charged by elapsed time; DIRECT and REAL_TIME never are (5.4).
CHARGED_TYPES = frozenset({ObservationType.NORMAL, ObservationType.RAPID_RESPONSE, ObservationType.TIME_CRITICAL})


def request_shares(
    request: Request, observatory: Observatory, semesters: Sequence[Semester]
) -> dict[AllocationKey, float]:
    """The request's unrounded seconds per allocation key."""
    return request_durations_by_key(request, observatory, semesters)


def move_ipp_for_state_changes(
    group: RequestGroup, events: Sequence[object], proposal: Proposal, uow: UnitOfWork
) -> None:
    """The IPP effects of the request state changes a verb just recorded (the table of 5.2)."""
    if group.observation_type is not ObservationType.NORMAL:
        return
    observatory, semesters = uow.observatory.get(), uow.semesters.all()
    for event in events:
        if not isinstance(event, RequestStateChanged) or event.request_id is None:
            continue
        factor = ipp_change_factor(group.ipp_value, event.old, event.new)
        if factor:
            request = group.request(event.request_id)
            move_ipp(proposal, ipp_hours(request_shares(request, observatory, semesters)), factor)


def charge_status(
    group: RequestGroup,
    request: Request,
    observation: Observation,
    status: ConfigurationStatus,
    proposal: Proposal,
    observatory: Observatory,
    semesters: Sequence[Semester],
) -> None:
    """Charge the status's reported elapsed time (5.4): only the difference to what it was charged before goes to
    the pool of every allocation of the request's semester that covers the configuration's instrument type."""
    pool = POOL_OF.get(group.observation_type)
    if status.summary is None or pool is None or group.observation_type not in CHARGED_TYPES:
        return
    configuration = next(c for c in request.configurations if c.id == status.configuration_id)
    cap = None
    if group.observation_type is ObservationType.RAPID_RESPONSE:
        cap = rapid_response_charge_cap(configuration, len(request.configurations), observatory)
    difference = observation.charge(status, hours(charge_seconds(status.summary, cap)))
    semester = semester_of(request, semesters).id
    charge_time(proposal, semester, configuration.instrument_type, pool, difference)


def refund(
    group: RequestGroup,
    request: Request,
    refunds: dict[int, float],
    proposal: Proposal,
    semesters: Sequence[Semester],
) -> None:
    """Give back the hours a BAD_DATA verdict refunded, per configuration id (5.4)."""
    pool = POOL_OF.get(group.observation_type)
    if pool is None or group.observation_type not in CHARGED_TYPES or not refunds:
        return
    semester = semester_of(request, semesters).id
    for configuration in request.configurations:
        refunded = refunds.get(configuration.id or 0, 0.0)
        if refunded:
            charge_time(proposal, semester, configuration.instrument_type, pool, -refunded)

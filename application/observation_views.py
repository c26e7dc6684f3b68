"""Read side of observations: what each caller may see (an observation is visible when its request group is,
requests.md 1.8), with each page's requests and groups loaded in one query, and the staff's status lists."""

from __future__ import annotations

import attrs

from application.handlers.requestgroups import visible_group
from application.ports import ObservationQuery, RequestQuery, StatusQuery, UnitOfWork
from application.request_views import visibility_clause
from domain.errors import NotFoundError
from domain.observations import ConfigurationStatus, Observation, ObservationState
from domain.permissions import Action, Actor, require
from domain.requestgroups import Request, RequestGroup


@attrs.frozen
class PlacedObservation:
    """An observation with the request it places and that request's group, as the list shape shows them."""

    observation: Observation
    group: RequestGroup
    request: Request


def search_observations(uow: UnitOfWork, actor: Actor, query: ObservationQuery) -> tuple[int, list[PlacedObservation]]:
    """The page of observations matching the filters among those the caller may see, each with its request and
    group (read for the whole page at once)."""
    with uow:
        clause = visibility_clause(uow, actor)
        count, found = uow.observations.search(attrs.evolve(query, **attrs.asdict(clause, recurse=False)))
        request_ids = tuple(sorted({o.request_id for o in found}))
        owners: dict[int | None, tuple[RequestGroup, Request]] = {}
        if request_ids:
            # Visible already: the observations were filtered by their groups' visibility above.
            _, pairs = uow.request_groups.search_requests(RequestQuery(ids=request_ids, limit=len(request_ids)))
            owners = {request.id: (group, request) for group, request in pairs}
    placed = [PlacedObservation(o, *owners[o.request_id]) for o in found if o.request_id in owners]
    return count, placed


def get_observation(uow: UnitOfWork, actor: Actor, observation_id: int, query: ObservationQuery) -> PlacedObservation:
    """One observation the caller may see that also passes the filters of ``query``; not found otherwise."""
    _, found = search_observations(uow, actor, attrs.evolve(query, ids=(observation_id,), limit=1, offset=0))
    if not found:
        raise NotFoundError(f"observation {observation_id}")
    return found[0]


def observations_of_request(
    uow: UnitOfWork, actor: Actor, request_id: int, *, exclude_canceled: bool = False
) -> list[Observation]:
    """The observations of a request the caller may see, ordered by id (requests.md 7.5); not found unless the
    caller may see the request's group."""
    with uow:
        visible_group(uow, actor, uow.request_groups.containing_request(request_id))
        found = uow.observations.for_request(request_id)
    if exclude_canceled:
        found = [o for o in found if o.state is not ObservationState.CANCELED]
    return found


def search_statuses(
    uow: UnitOfWork, actor: Actor, query: StatusQuery
) -> tuple[int, list[tuple[Observation, ConfigurationStatus]]]:
    """The page of configuration statuses matching the filters, newest first: the telescopes' (staff) view."""
    require(Action.OPERATE, actor)
    with uow:
        return uow.observations.search_statuses(query)


def get_status(uow: UnitOfWork, actor: Actor, status_id: int) -> ConfigurationStatus:
    """One configuration status (staff); not found when there is none with this id."""
    require(Action.OPERATE, actor)
    with uow:
        observation = uow.observations.containing_status(status_id)
        if observation is None:
            raise NotFoundError(f"configuration status {status_id}")
        return observation.status(status_id)

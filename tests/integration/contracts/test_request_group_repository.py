"""Contract of RequestGroupRepository: the group tree stored whole, state changes by the verbs kept on commit only,
events collected once, and every filter, order, visibility clause and page of the lists, and time used."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from application.ports import RequestGroupQuery, RequestQuery, UnitOfWork
from domain.proposals import Proposal
from domain.requestgroups import (
    ObservationType,
    Operator,
    OrbitalScheme,
    RequestGroup,
    RequestGroupStateChanged,
    RequestGroupSubmitted,
    RequestState,
    RequestStateChanged,
    Target,
    TargetType,
)
from tests.integration.conftest import BACKENDS, Backend, open_backend
from tests.integration.contracts.request_builders import T0, configuration, days, group, request, rich_group

UowFactory = Callable[[], UnitOfWork]

PENDING, COMPLETED, CANCELED = RequestState.PENDING, RequestState.COMPLETED, RequestState.CANCELED
WINDOW_EXPIRED = RequestState.WINDOW_EXPIRED


def add_proposals(uow_factory: UowFactory) -> None:
    """The proposals that groups refer to (a database insists they exist)."""
    with uow_factory() as uow:
        for proposal_id in ("ALPHA", "BETA", "GAMMA"):
            uow.proposals.add(Proposal(proposal_id))
        uow.commit()


@pytest.fixture
def uow_factory(uow_factory: UowFactory) -> UowFactory:
    """The store with the proposals in it."""
    add_proposals(uow_factory)
    return uow_factory


def add(uow_factory: UowFactory, *groups: RequestGroup) -> list[int]:
    with uow_factory() as uow:
        for item in groups:
            uow.request_groups.add(item)
        uow.commit()
    return [item.id for item in groups if item.id is not None]


def as_data(item: Any) -> dict[str, Any]:
    """Every constructor field, recursively: what a stored group (or observation) must give back."""
    return attrs.asdict(item, recurse=True, filter=lambda a, _: a.init)


def load(uow_factory: UowFactory, group_id: int) -> RequestGroup:
    with uow_factory() as uow:
        loaded = uow.request_groups.get(group_id)
    assert loaded is not None
    return loaded


# ---------------------------------------------------------------------------------------------------------
# Storage of the tree.


def test_a_stored_group_comes_back_with_every_field_of_its_tree(uow_factory: UowFactory) -> None:
    original = rich_group()
    [group_id] = add(uow_factory, original)
    expected = as_data(original)

    loaded = load(uow_factory, group_id)

    assert as_data(loaded) == expected
    assert loaded.events == []
    assert loaded is not original
    # Types, not just equal values: the domain compares states by identity and times must be aware UTC.
    assert type(loaded.state) is RequestState
    assert type(loaded.observation_type) is ObservationType
    assert all(type(r.state) is RequestState for r in loaded.requests)
    first, second = loaded.requests
    moments = [loaded.created, loaded.modified, first.suspend_until, first.created, first.modified]
    moments += [moment for r in loaded.requests for w in r.windows for moment in (w.start, w.end)]
    assert all(moment is not None and moment.utcoffset() == timedelta(0) for moment in moments)
    assert isinstance(loaded.requests, list)
    assert isinstance(first.configurations, list)
    assert [c.priority for c in first.configurations] == [2, 1, 2]
    assert [w.start for w in first.windows] == [days(0), days(3), days(-1)]
    detailed = first.configurations[0]
    assert isinstance(detailed.instrument_configs, tuple)
    assert isinstance(detailed.instrument_configs[0].rois, tuple)
    assert detailed.instrument_configs[0].rois[0].y1 is None
    assert [type(c.target.type) for c in (*first.configurations, *second.configurations)] == [TargetType] * 6
    assert [c.target.scheme for c in second.configurations] == [
        OrbitalScheme.MPC_COMET,
        OrbitalScheme.JPL_MAJOR_PLANET,
        OrbitalScheme.ASA_MAJOR_PLANET,
    ]
    assert type(second.configurations[0].target.scheme) is OrbitalScheme
    assert second.duration is None
    assert second.suspend_until is None
    assert detailed.extra_params["deep"]["a"]["b"] == [1, 2.5, "x", None, True]


def test_add_assigns_ids_to_the_group_its_requests_and_configurations(uow_factory: UowFactory) -> None:
    first, second = rich_group(), group(request(configuration(), configuration("M33")))
    with uow_factory() as uow:
        uow.request_groups.add(first)
        uow.request_groups.add(second)
        # Set once add returns: the submission's answer is written from the group right after commit.
        configuration_ids = [c.id for g in (first, second) for r in g.requests for c in r.configurations]
        request_ids = [r.id for g in (first, second) for r in g.requests]
        uow.commit()
    assert first.id is not None
    assert second.id is not None
    assert first.id != second.id
    assert None not in request_ids
    assert len(set(request_ids)) == len(request_ids)
    assert None not in configuration_ids
    assert len(set(configuration_ids)) == len(configuration_ids)
    assert [c.id for r in (*first.requests, *second.requests) for c in r.configurations] == configuration_ids
    loaded = load(uow_factory, second.id)
    assert [r.id for r in loaded.requests] == [r.id for r in second.requests]
    assert [c.id for c in loaded.requests[0].configurations] == [c.id for c in second.requests[0].configurations]


def test_a_group_cannot_be_added_twice(uow_factory: UowFactory) -> None:
    item = group()
    add(uow_factory, item)
    with uow_factory() as uow, pytest.raises(ValueError, match="already stored"):
        uow.request_groups.add(item)


def test_only_the_targets_own_fields_are_stored_and_fill_window_not_at_all(uow_factory: UowFactory) -> None:
    # Off-type values (2.9: never stored) and the input-only fill_window (3.8).
    satellite = Target("ISS", TargetType.SATELLITE, altitude=45.0, ra=10.0, proper_motion_ra=5.0, epoch=2010.0)
    item = group(request(configuration(satellite, fill_window=True)))
    [group_id] = add(uow_factory, item)

    stored = load(uow_factory, group_id).requests[0].configurations[0]

    assert stored.target == Target("ISS", TargetType.SATELLITE, altitude=45.0)
    assert stored.fill_window is False


def test_a_direct_group_without_location_or_windows_round_trips(uow_factory: UowFactory) -> None:
    direct = request(
        configuration(instrument_name="fa12", guide_camera_name=""), windows=(), telescope_class=None, duration=None
    )
    original = group(direct, observation_type=ObservationType.DIRECT)
    [group_id] = add(uow_factory, original)

    loaded = load(uow_factory, group_id)

    assert as_data(loaded) == as_data(original)
    assert loaded.requests[0].location is None
    assert loaded.requests[0].windows == []
    assert loaded.max_window_time is None


def test_get_and_containing_request_find_the_group_or_nothing(uow_factory: UowFactory) -> None:
    first, second = group(name="first"), group(request(), request(), name="second")
    add(uow_factory, first, second)
    assert second.id is not None
    assert second.requests[1].id is not None
    with uow_factory() as uow:
        found = uow.request_groups.containing_request(second.requests[1].id)
        assert found is not None
        assert found.name == "second"
        # One object per group in a unit of work, however it was reached.
        assert uow.request_groups.get(second.id) is found
        assert uow.request_groups.search(RequestGroupQuery(ids=(second.id,)))[1] == [found]
        assert uow.request_groups.get(second.id, for_update=True) is found
        assert uow.request_groups.get(10_000) is None
        assert uow.request_groups.get(10_000, for_update=True) is None
        assert uow.request_groups.containing_request(10_000) is None
        assert uow.request_groups.containing_request(second.requests[1].id, for_update=True) is found


@pytest.mark.postgres
def test_for_update_locks_the_group_row_on_postgresql(tmp_path: Path) -> None:
    # PostgreSQL only: SQLite has no row locks (its writers take the whole database), memory its store's lock.
    with open_backend("postgres", tmp_path) as backend:
        _check_row_lock(backend)


def _check_row_lock(backend: Backend) -> None:
    assert backend.engine is not None
    with backend.uow_factory() as uow:
        uow.proposals.add(Proposal("ALPHA"))
        item = group()
        uow.request_groups.add(item)
        uow.commit()
    with backend.uow_factory() as uow:
        assert uow.request_groups.get(item.id or 0, for_update=True) is not None
        with backend.engine.connect() as other, pytest.raises(sa.exc.OperationalError, match="lock"):
            other.execute(sa.text("SELECT id FROM request_groups WHERE id = :id FOR UPDATE NOWAIT"), {"id": item.id})
    with backend.engine.connect() as other:
        # The lock ends with the unit of work.
        assert other.execute(sa.text("SELECT id FROM request_groups FOR UPDATE NOWAIT")).scalar_one() == item.id


# ---------------------------------------------------------------------------------------------------------
# State changes and events.


def test_state_changes_by_the_verbs_are_stored_on_commit(uow_factory: UowFactory) -> None:
    canceled, completed, expired = (
        group(name="canceled"),
        group(request(), request(), name="completed", operator=Operator.MANY),
        group(request(windows=((0, 1),)), name="expired"),
    )
    add(uow_factory, canceled, completed, expired)
    with uow_factory() as uow:
        for item in (canceled, completed, expired):
            assert item.id is not None
            loaded = uow.request_groups.get(item.id)
            assert loaded is not None
            if item is canceled:
                assert loaded.cancel(days(1))
            elif item is completed:
                assert loaded.complete_request(loaded.requests[1], days(2))
                loaded.requests[0].suspend_until = days(3)
            else:
                assert loaded.expire(days(5)) == loaded.requests
        uow.commit()

    assert canceled.id is not None
    assert completed.id is not None
    assert expired.id is not None
    stored = load(uow_factory, canceled.id)
    assert (stored.state, stored.modified, stored.requests[0].state) == (CANCELED, days(1), CANCELED)
    assert stored.requests[0].modified == days(1)
    stored = load(uow_factory, completed.id)
    assert stored.state is PENDING
    assert stored.modified == T0
    assert [r.state for r in stored.requests] == [PENDING, COMPLETED]
    assert [r.modified for r in stored.requests] == [T0, days(2)]
    assert [r.suspend_until for r in stored.requests] == [days(3), None]
    stored = load(uow_factory, expired.id)
    assert (stored.state, stored.requests[0].state, stored.modified) == (WINDOW_EXPIRED, WINDOW_EXPIRED, days(5))


def test_a_suspension_can_be_lifted_and_the_lift_is_stored(uow_factory: UowFactory) -> None:
    item = group()
    item.requests[0].suspend_until = days(1)
    [group_id] = add(uow_factory, item)
    with uow_factory() as uow:
        loaded = uow.request_groups.get(group_id)
        assert loaded is not None
        loaded.requests[0].suspend_until = None
        uow.commit()
    assert load(uow_factory, group_id).requests[0].suspend_until is None


def test_changes_are_discarded_on_rollback_and_without_commit(uow_factory: UowFactory) -> None:
    [group_id] = add(uow_factory, group())
    with uow_factory() as uow:
        loaded = uow.request_groups.get(group_id)
        assert loaded is not None
        loaded.cancel(days(1))
        uow.rollback()
        again = uow.request_groups.get(group_id)
        assert again is not None
        assert again.state is PENDING
        uow.commit()
    with uow_factory() as uow:
        loaded = uow.request_groups.get(group_id)
        assert loaded is not None
        loaded.complete_request(loaded.requests[0], days(1))
        uow.request_groups.add(group(name="never stored"))
    stored = load(uow_factory, group_id)
    assert stored.state is PENDING
    assert stored.requests[0].state is PENDING
    assert stored.modified == T0
    with uow_factory() as uow:
        assert uow.request_groups.search(RequestGroupQuery())[0] == 1


def test_reads_in_a_unit_of_work_see_its_own_uncommitted_changes(uow_factory: UowFactory) -> None:
    [group_id] = add(uow_factory, group())
    with uow_factory() as uow:
        loaded = uow.request_groups.get(group_id)
        assert loaded is not None
        loaded.cancel(days(1))
        assert uow.request_groups.search(RequestGroupQuery(states=(CANCELED,)))[0] == 1
        assert uow.request_groups.search_requests(RequestQuery(states=(CANCELED,)))[0] == 1
        assert uow.request_groups.time_used("ALPHA", "ada", T0) == 0


def test_events_of_submission_and_state_changes_are_collected_once_after_commit(uow_factory: UowFactory) -> None:
    item = group()
    with uow_factory() as uow:
        uow.request_groups.add(item)
        assert list(uow.collect_new_events()) == []
        uow.commit()
        assert list(uow.collect_new_events()) == [RequestGroupSubmitted(item)]
        assert list(uow.collect_new_events()) == []
    assert item.id is not None
    request_id = item.requests[0].id
    with uow_factory() as uow:
        loaded = uow.request_groups.get(item.id)
        assert loaded is not None
        loaded.cancel(days(1))
        uow.commit()
        assert list(uow.collect_new_events()) == [
            RequestGroupStateChanged(item.id, PENDING, CANCELED),
            RequestStateChanged(item.id, request_id, PENDING, CANCELED),
        ]
    with uow_factory() as uow:
        [found] = uow.request_groups.search(RequestGroupQuery())[1]
        found.complete_request(found.requests[0], days(2))
        uow.rollback()
        uow.commit()
        assert list(uow.collect_new_events()) == []


# ---------------------------------------------------------------------------------------------------------
# The group list: filters, visibility, order, pages.


@attrs.frozen
class World:
    """Five groups (g1..g5, submitted in that order) spread over every filter, in a store that the list tests
    only read (so one store per backend serves them all)."""

    uow_factory: UowFactory
    ids: dict[str, int]
    request_ids: dict[str, int]

    def names(self, groups: list[RequestGroup]) -> list[str]:
        by_id = {group_id: name for name, group_id in self.ids.items()}
        return [by_id[g.id or 0] for g in groups]


def build_world(uow_factory: UowFactory) -> World:
    groups = {
        "g1": group(
            request(configuration("M31"), windows=((1, 3),), telescope_class="1m0"),
            name="Alpha Supernova",
            now=T0,
        ),
        "g2": group(
            request(configuration("NGC 1234"), windows=((2, 5),), telescope_class="2m0"),
            request(configuration("Vesta"), windows=((10, 12),), telescope_class="0m4"),
            proposal="ALPHA",
            submitter="bob",
            name="beta survey",
            observation_type=ObservationType.RAPID_RESPONSE,
            operator=Operator.MANY,
            ipp_value=1.5,
            now=days(1),
        ),
        "g3": group(
            request(configuration("m31 halo"), windows=((4, 6),)),
            proposal="BETA",
            submitter="adam",
            name="Gamma_50%",
            observation_type=ObservationType.TIME_CRITICAL,
            ipp_value=0.5,
            now=days(2),
        ),
        "g4": group(
            request(configuration("Sat"), windows=(), telescope_class=None),
            proposal="GAMMA",
            submitter="cyd",
            name="direct",
            observation_type=ObservationType.DIRECT,
            now=days(3),
        ),
        "g5": group(
            request(configuration("NGC 300"), windows=((6, 7),)),
            request(configuration("NGC 300"), windows=((7, 8),)),
            proposal="BETA",
            name="delta",
            operator=Operator.MANY,
            now=days(4),
        ),
    }
    ids = dict(zip(groups, add(uow_factory, *groups.values()), strict=True))
    with uow_factory() as uow:
        g3 = uow.request_groups.get(ids["g3"])
        g5 = uow.request_groups.get(ids["g5"])
        assert g3 is not None
        assert g5 is not None
        g3.cancel(days(3))
        g5.complete_request(g5.requests[1], days(5))
        uow.commit()
    request_ids = {
        f"{name}r{n}": r.id for name, g in groups.items() for n, r in enumerate(g.requests, 1) if r.id is not None
    }
    return World(uow_factory, ids, request_ids)


@pytest.fixture(scope="module", params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with open_backend(request.param, tmp_path_factory.mktemp("world")) as backend:
        add_proposals(backend.uow_factory)
        yield build_world(backend.uow_factory)


def search(world: World, **fields: Any) -> list[str]:
    with world.uow_factory() as uow:
        count, page = uow.request_groups.search(RequestGroupQuery(**fields))
    names = world.names(page)
    assert count == len(names)
    return names


FILTERS: list[tuple[dict[str, Any], list[str]]] = [
    ({}, ["g5", "g4", "g3", "g2", "g1"]),
    ({"states": (CANCELED,)}, ["g3"]),
    ({"states": (PENDING, COMPLETED)}, ["g5", "g4", "g2", "g1"]),
    ({"exclude_states": (PENDING,)}, ["g3"]),
    ({"states": (PENDING, CANCELED), "exclude_states": (PENDING,)}, ["g3"]),
    ({"proposal": "BETA"}, ["g5", "g3"]),
    ({"proposal": "beta"}, []),
    ({"name_contains": "SUPER"}, ["g1"]),
    # LIKE wildcards are literal characters here.
    ({"name_contains": "50%"}, ["g3"]),
    ({"name_contains": "a_5"}, ["g3"]),
    ({"name_contains": "a_s"}, []),
    ({"name_contains": "%"}, ["g3"]),
    ({"user_contains": "AD"}, ["g5", "g3", "g1"]),
    ({"submitter": "ada"}, ["g5", "g1"]),
    ({"submitter": "ad"}, []),
    ({"observation_types": (ObservationType.RAPID_RESPONSE, ObservationType.TIME_CRITICAL)}, ["g3", "g2"]),
    ({"operator": Operator.MANY}, ["g5", "g2"]),
    ({"ipp_value": 1.5}, ["g2"]),
    ({"created_after": days(1)}, ["g5", "g4", "g3", "g2"]),
    ({"created_before": days(1)}, ["g2", "g1"]),
    ({"created_after": days(1), "created_before": days(2)}, ["g3", "g2"]),
    ({"modified_after": days(3)}, ["g5", "g4", "g3"]),
    ({"modified_before": days(1)}, ["g2", "g1"]),
    ({"modified_after": days(5)}, ["g5"]),
    # Each bound may be met by a different request of the group (g5's were modified at days 4 and 5).
    ({"modified_after": days(4.5), "modified_before": days(4.5)}, ["g5"]),
    ({"telescope_classes": ("0m4",)}, ["g2"]),
    ({"telescope_classes": ("1m0", "2m0")}, ["g5", "g3", "g2", "g1"]),
    ({"target_contains": "m31"}, ["g3", "g1"]),
    ({"target_contains": "VESTA"}, ["g2"]),
    ({"target_contains": "Andromeda"}, []),
    # Window starts: g1 day 1, g2 days 2 and 10, g3 day 4, g5 days 6 and 7; one window must meet both bounds.
    ({"window_starts_after": days(3), "window_starts_before": days(5)}, ["g3"]),
    ({"window_starts_after": days(10), "window_starts_before": days(10)}, ["g2"]),
    ({"window_starts_after": days(7)}, ["g5", "g2"]),
    ({"window_starts_before": days(1)}, ["g1"]),
    ({"proposal": "ALPHA", "telescope_classes": ("2m0",)}, ["g2"]),
    ({"proposal": "ALPHA", "telescope_classes": ("0m4",), "submitter": "ada"}, []),
]


@pytest.mark.parametrize(("fields", "expected"), FILTERS)
def test_each_filter_selects_its_groups(world: World, fields: dict[str, Any], expected: list[str]) -> None:
    assert search(world, **fields) == expected


def test_ids_and_request_id_select_their_groups(world: World) -> None:
    assert search(world, ids=(world.ids["g1"], world.ids["g3"])) == ["g3", "g1"]
    assert search(world, ids=(10_000,)) == []
    assert search(world, request_id=world.request_ids["g2r2"]) == ["g2"]
    assert search(world, request_id=world.request_ids["g5r1"], proposal="ALPHA") == []


VISIBILITY: list[tuple[dict[str, Any], list[str]]] = [
    ({"visible_proposals": None}, ["g5", "g4", "g3", "g2", "g1"]),
    ({"visible_proposals": frozenset()}, []),
    ({"visible_proposals": frozenset({"ALPHA"})}, ["g2", "g1"]),
    (
        {"visible_proposals": frozenset({"GAMMA"}), "own_in_proposals": frozenset({"BETA"}), "own_submitter": "ada"},
        ["g5", "g4"],
    ),
    (
        {
            "visible_proposals": frozenset(),
            "own_in_proposals": frozenset({"ALPHA", "BETA"}),
            "own_submitter": "ada",
        },
        ["g5", "g1"],
    ),
    ({"visible_proposals": frozenset(), "own_in_proposals": frozenset({"ALPHA", "BETA"})}, []),
    # No restriction means no restriction, whatever the own clause says.
    ({"own_in_proposals": frozenset({"BETA"}), "own_submitter": "ada"}, ["g5", "g4", "g3", "g2", "g1"]),
    (
        {
            "visible_proposals": frozenset({"ALPHA"}),
            "own_in_proposals": frozenset({"BETA"}),
            "own_submitter": "adam",
            "submitter": "adam",
        },
        ["g3"],
    ),
]


@pytest.mark.parametrize(("fields", "expected"), VISIBILITY)
def test_the_visibility_clause_hides_what_the_caller_may_not_read(
    world: World, fields: dict[str, Any], expected: list[str]
) -> None:
    assert search(world, **fields) == expected


ORDERS: list[tuple[tuple[str, ...], list[str]]] = [
    (("-id",), ["g5", "g4", "g3", "g2", "g1"]),
    (("id",), ["g1", "g2", "g3", "g4", "g5"]),
    # By code point: capitals first, whatever the database's locale.
    (("name",), ["g1", "g3", "g2", "g5", "g4"]),
    (("-name",), ["g4", "g5", "g2", "g3", "g1"]),
    (("created",), ["g1", "g2", "g3", "g4", "g5"]),
    (("-created",), ["g5", "g4", "g3", "g2", "g1"]),
    # The group's own modified (g3 canceled at day 3, g4 submitted then): ties newest first.
    (("modified",), ["g1", "g2", "g4", "g3", "g5"]),
    (("-modified",), ["g5", "g4", "g3", "g2", "g1"]),
    # Latest window end: g1 3, g3 6, g5 8, g2 12; g4 has no window and sorts as the largest.
    (("end",), ["g1", "g3", "g5", "g2", "g4"]),
    (("-end",), ["g4", "g2", "g5", "g3", "g1"]),
    (("-modified", "name"), ["g5", "g3", "g4", "g2", "g1"]),
]


@pytest.mark.parametrize(("order", "expected"), ORDERS)
def test_groups_come_in_the_order_asked(world: World, order: tuple[str, ...], expected: list[str]) -> None:
    assert search(world, order=order) == expected


def test_an_unknown_order_key_is_refused(world: World) -> None:
    with world.uow_factory() as uow, pytest.raises(ValueError, match="cannot order"):
        uow.request_groups.search(RequestGroupQuery(order=("proposal",)))


def test_a_page_counts_every_match(world: World) -> None:
    with world.uow_factory() as uow:
        count, page = uow.request_groups.search(RequestGroupQuery(limit=2, offset=1))
        assert (count, world.names(page)) == (5, ["g4", "g3"])
        count, page = uow.request_groups.search(RequestGroupQuery(exclude_states=(CANCELED,), limit=2, offset=3))
        assert (count, world.names(page)) == (4, ["g1"])
        assert uow.request_groups.search(RequestGroupQuery(offset=5)) == (5, [])
        assert uow.request_groups.search(RequestGroupQuery(limit=0))[0] == 5


# ---------------------------------------------------------------------------------------------------------
# The request list.


def search_requests(world: World, **fields: Any) -> list[str]:
    names = {request_id: name for name, request_id in world.request_ids.items()}
    with world.uow_factory() as uow:
        count, page = uow.request_groups.search_requests(RequestQuery(**fields))
        for found_group, found_request in page:
            assert any(r is found_request for r in found_group.requests)
            assert uow.request_groups.get(found_group.id or 0) is found_group
    found = [names[r.id or 0] for _, r in page]
    if not fields.get("limit") and not fields.get("offset"):
        assert count == len(found)
    return found


REQUEST_FILTERS: list[tuple[dict[str, Any], list[str]]] = [
    ({}, ["g5r2", "g5r1", "g4r1", "g3r1", "g2r2", "g2r1", "g1r1"]),
    ({"states": (CANCELED, COMPLETED)}, ["g5r2", "g3r1"]),
    ({"telescope_classes": ("1m0",)}, ["g5r2", "g5r1", "g3r1", "g1r1"]),
    ({"telescope_classes": ("0m4", "2m0"), "states": (PENDING,)}, ["g2r2", "g2r1"]),
    ({"order": ("id",)}, ["g1r1", "g2r1", "g2r2", "g3r1", "g4r1", "g5r1", "g5r2"]),
    # By state name, ties newest first.
    ({"order": ("state",)}, ["g3r1", "g5r2", "g5r1", "g4r1", "g2r2", "g2r1", "g1r1"]),
    ({"order": ("-state", "id")}, ["g1r1", "g2r1", "g2r2", "g4r1", "g5r1", "g5r2", "g3r1"]),
    ({"visible_proposals": frozenset({"ALPHA"})}, ["g2r2", "g2r1", "g1r1"]),
    (
        {"visible_proposals": frozenset({"GAMMA"}), "own_in_proposals": frozenset({"BETA"}), "own_submitter": "ada"},
        ["g5r2", "g5r1", "g4r1"],
    ),
    ({"visible_proposals": frozenset()}, []),
]


@pytest.mark.parametrize(("fields", "expected"), REQUEST_FILTERS)
def test_the_request_list_filters_orders_and_hides(world: World, fields: dict[str, Any], expected: list[str]) -> None:
    assert search_requests(world, **fields) == expected


def test_the_request_list_selects_by_id_and_pages(world: World) -> None:
    ids = world.request_ids
    assert search_requests(world, ids=(ids["g2r2"], ids["g1r1"])) == ["g2r2", "g1r1"]
    assert search_requests(world, ids=(ids["g2r2"],), telescope_classes=("2m0",)) == []
    with world.uow_factory() as uow:
        count, page = uow.request_groups.search_requests(RequestQuery(limit=3, offset=2))
        assert count == 7
        assert [r.id for _, r in page] == [ids["g4r1"], ids["g3r1"], ids["g2r2"]]
        # Two requests of one group on a page come with the one group object.
        count, page = uow.request_groups.search_requests(RequestQuery(limit=2))
        assert page[0][0] is page[1][0]
    with world.uow_factory() as uow, pytest.raises(ValueError, match="cannot order"):
        uow.request_groups.search_requests(RequestQuery(order=("modified",)))


# ---------------------------------------------------------------------------------------------------------
# Time used in a proposal (requests.md 1.1).


def test_time_used_sums_the_submitters_live_and_completed_requests_since_a_date(uow_factory: UowFactory) -> None:
    counted = group(request(duration=100), now=T0)
    partly = group(request(duration=200), request(duration=400), operator=Operator.MANY, now=days(1))
    canceled = group(request(duration=300), request(duration=500), operator=Operator.MANY, now=days(1))
    other_user = group(request(duration=1000), submitter="bob", now=days(1))
    other_proposal = group(request(duration=2000), proposal="BETA", now=days(1))
    too_early = group(request(duration=50), now=T0 - timedelta(microseconds=1))
    unknown = group(request(duration=None), now=days(2))
    expired = group(request(duration=4000, windows=((0, 1),)), now=days(0.5))
    add(uow_factory, counted, partly, canceled, other_user, other_proposal, too_early, unknown, expired)
    with uow_factory() as uow:
        loaded = [uow.request_groups.get(item.id or 0) for item in (partly, canceled, expired)]
        assert None not in loaded
        partly_loaded, canceled_loaded, expired_loaded = (g for g in loaded if g is not None)
        # One request COMPLETED, one WINDOW_EXPIRED: the group is COMPLETED and only the first counts.
        partly_loaded.complete_request(partly_loaded.requests[0], days(2))
        partly_loaded.expire_request(partly_loaded.requests[1], days(2))
        # A COMPLETED request in a CANCELED group counts nothing.
        canceled_loaded.complete_request(canceled_loaded.requests[0], days(2))
        canceled_loaded.cancel(days(2))
        expired_loaded.expire(days(3))
        uow.commit()
    assert partly_loaded.state is COMPLETED
    assert canceled_loaded.requests[0].state is COMPLETED

    with uow_factory() as uow:
        assert uow.request_groups.time_used("ALPHA", "ada", T0) == 100 + 200
        assert uow.request_groups.time_used("ALPHA", "ada", T0 - timedelta(days=1)) == 100 + 200 + 50
        assert uow.request_groups.time_used("ALPHA", "ada", days(1)) == 200
        assert uow.request_groups.time_used("ALPHA", "bob", T0) == 1000
        assert uow.request_groups.time_used("BETA", "ada", T0) == 2000
        assert uow.request_groups.time_used("ALPHA", "ADA", T0) == 0
        assert uow.request_groups.time_used("GAMMA", "ada", T0) == 0


def test_the_configurations_of_a_stored_group_are_new_values_carrying_their_ids(uow_factory: UowFactory) -> None:
    item = group(request(configuration("M31"), configuration("M33")))
    before = list(item.requests[0].configurations)
    add(uow_factory, item)
    after = item.requests[0].configurations
    assert [c.id for c in before] == [None, None]
    assert None not in [c.id for c in after]
    # Configurations are values: the stored ones are new objects, equal to the old but for the id.
    assert [attrs.evolve(c, id=None) for c in after] == before

"""For the tests of the sky plots: a double of the Visibility port where the astronomy does not matter (a target
is visible at a telescope during fixed hours of every UTC day, and its airmass grows with the time of day), and a
small store to read requests from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from adapters.memory import InMemoryUnitOfWork, MemoryStore
from domain.downtime import Downtime
from domain.proposals import Proposal, Semester
from domain.requestgroups import (
    Configuration,
    Constraints,
    InstrumentConfig,
    Location,
    Request,
    RequestGroup,
    Target,
    Window,
)
from domain.visibility import (
    AirmassSeries,
    Interval,
    ObservingConstraints,
    SiderealTarget,
    TelescopeSite,
    intersect_intervals,
    subtract_intervals,
)
from tests.unit.domain.observatory_fixtures import demo_observatory


def airmass_at(moment: datetime) -> float:
    """The double's airmass: 1 at midnight UTC, growing by 0.1 an hour."""
    return 1.0 + (moment.hour * 60 + moment.minute) / 600


class DailySky:
    """Every target is visible during ``hours`` (first, last, in hours of the UTC day) at the telescopes whose key,
    or whose site code, is a key of ``hours``; nowhere else. Records what it was asked."""

    def __init__(self, hours: Mapping[str, tuple[float, float]] | None = None) -> None:
        self.hours = dict(hours or {})
        self.visible_calls: list[tuple[list[SiderealTarget], list[str], list[ObservingConstraints]]] = []
        self.airmass_calls: list[tuple[SiderealTarget, list[str], datetime, datetime, float]] = []

    def _daily(self, telescope: TelescopeSite, windows: Sequence[Interval]) -> tuple[Interval, ...]:
        found = self.hours.get(telescope.key, self.hours.get(telescope.site))
        if found is None or not windows:
            return ()
        first, last = found
        day = min(w.start for w in windows).replace(hour=0, minute=0, second=0, microsecond=0)
        end = max(w.end for w in windows)
        nights = []
        while day < end:
            nights.append(Interval(day + timedelta(hours=first), day + timedelta(hours=last)))
            day += timedelta(days=1)
        return intersect_intervals(windows, nights)

    def visible_intervals(
        self,
        targets: Sequence[SiderealTarget],
        telescopes: Sequence[TelescopeSite],
        windows: Sequence[Sequence[Interval]],
        constraints: Sequence[ObservingConstraints],
        downtimes: Mapping[str, Sequence[Interval]] | None = None,
    ) -> list[Mapping[str, tuple[Interval, ...]]]:
        self.visible_calls.append((list(targets), [t.key for t in telescopes], list(constraints)))
        return [
            {
                t.key: subtract_intervals(self._daily(t, windows[index]), (downtimes or {}).get(t.key, ()))
                for t in telescopes
            }
            for index in range(len(targets))
        ]

    def airmass(
        self,
        target: SiderealTarget,
        telescopes: Sequence[TelescopeSite],
        start: datetime,
        end: datetime,
        step_s: float = 600.0,
    ) -> dict[str, AirmassSeries]:
        self.airmass_calls.append((target, [t.key for t in telescopes], start, end, step_s))
        times = []
        moment = start
        while moment < end:
            times.append(moment)
            moment += timedelta(seconds=step_s)
        series = AirmassSeries(tuple(times), tuple(airmass_at(t) for t in times))
        return {t.key: series for t in telescopes}


# ---------------------------------------------------------------------------------------------------------
# A small store: the demo observatory, semester 2016B, TEST_PROPOSAL (private) and OTHER_PROPOSAL

NOW = datetime(2016, 9, 1, tzinfo=UTC)
SINISTRO, FLOYDS = "1M0-SCICAM-SINISTRO", "2M0-FLOYDS-SCICAM"
TEST, OTHER = "TEST_PROPOSAL", "OTHER_PROPOSAL"
DAY = datetime(2016, 10, 1, tzinfo=UTC)


class SkyWorld:
    """A store to read from, through fresh in-memory units of work."""

    def __init__(self) -> None:
        self.store = MemoryStore()
        with self.uow() as uow:
            uow.observatory.save(demo_observatory())
            uow.semesters.add(Semester("2016B", NOW, datetime(2016, 12, 31, tzinfo=UTC)))
            for proposal_id in (TEST, OTHER):
                uow.proposals.add(Proposal.open(proposal_id, {}, [1], NOW))
            uow.commit()

    def uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store)

    def store_request(self, request: Request, proposal: str = TEST) -> Request:
        """Store a PENDING group holding the request; the stored request (with its id)."""
        group = RequestGroup(proposal, "pi", "group", "NORMAL", "SINGLE", 1.0, [request], created=NOW, modified=NOW)
        with self.uow() as uow:
            uow.request_groups.add(group)
            uow.commit()
        return group.requests[0]

    def add_downtime(self, key: str, start: datetime, end: datetime, instrument_type: str = "") -> None:
        site, enclosure, telescope = key.split(".")
        with self.uow() as uow:
            uow.downtimes.add(Downtime(None, start, end, site, enclosure, telescope, instrument_type, created=NOW))
            uow.commit()


def configuration(
    ra: float = 34.4,
    dec: float = 20.0,
    *,
    instrument_type: str = SINISTRO,
    max_airmass: float = 2.0,
    exposure_time: float = 100.0,
    target: Target | None = None,
) -> Configuration:
    return Configuration(
        instrument_type,
        "EXPOSE" if instrument_type == SINISTRO else "SPECTRUM",
        [
            InstrumentConfig(
                exposure_time,
                1,
                optical_elements={"filter": "air"} if instrument_type == SINISTRO else {"slit": "slit_6.0as"},
            )
        ],
        target or Target.icrs("star", ra, dec),
        constraints=Constraints(max_airmass=max_airmass),
    )


def sky_request(
    *configurations: Configuration,
    start: datetime = DAY,
    days: float = 2,
    location: Location | None = None,
    duration: int = 226,
) -> Request:
    return Request.create(
        list(configurations) or [configuration()],
        windows=[Window(start, start + timedelta(days=days))],
        location=location
        or Location("2m0" if configurations and configurations[0].instrument_type == FLOYDS else "1m0"),
        duration=duration,
    )

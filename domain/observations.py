"""Observations: a request placed on one telescope at one time, and the telescope's feedback on it.

requests.md 6.2-6.6 and scheduler.md 6 fix the rules: an observation holds one configuration status per
configuration and repeat; the site reports each status (ATTEMPTED, then COMPLETED / FAILED / NOT_ATTEMPTED with a
summary of what ran); the observation's state follows from its statuses, the request's state from the
observation's outcome, and elapsed time is charged to the proposal's allocations. Everything here is arithmetic
over the aggregate; the handler (application.handlers.observations) loads and stores it.

Units: ``time_charged`` is hours (the unit of the allocations it is added to); ``time_completed`` in a summary is
seconds of exposure, as the telescope reports it; ``elapsed_s`` is seconds.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from attrs import define, field, frozen

from domain.errors import ErrorTree, NotFoundError, ValidationError
from domain.observatory import Instrument, InstrumentState, JsonDict, Observatory, Telescope, telescope_class
from domain.requestgroups import OFF, Configuration, ObservationType, Request, RequestGroup, RequestState

# ---------------------------------------------------------------------------------------------------------
# States (requests.md 6.2)


class ObservationState(enum.StrEnum):
    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    ABORTED = "ABORTED"
    NOT_ATTEMPTED = "NOT_ATTEMPTED"
    CANCELED = "CANCELED"
    BAD_DATA = "BAD_DATA"

    @property
    def is_terminal(self) -> bool:
        return self not in (ObservationState.PENDING, ObservationState.IN_PROGRESS)


# Results after which the scheduler re-plans the request (6.3): they move the last-changed marker.
REPLAN_RESULTS = frozenset({ObservationState.FAILED, ObservationState.ABORTED, ObservationState.NOT_ATTEMPTED})
# Outcomes staff may overrule with BAD_DATA (6.6).
BAD_DATA_FROM = frozenset({ObservationState.COMPLETED, ObservationState.FAILED, ObservationState.ABORTED})


class StatusState(enum.StrEnum):
    """State of one configuration status: PENDING -> ATTEMPTED -> COMPLETED / FAILED / NOT_ATTEMPTED."""

    PENDING = "PENDING"
    ATTEMPTED = "ATTEMPTED"
    NOT_ATTEMPTED = "NOT_ATTEMPTED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    BAD_DATA = "BAD_DATA"

    @property
    def is_terminal(self) -> bool:
        return self not in (StatusState.PENDING, StatusState.ATTEMPTED)


def observation_state_from(states: Sequence[StatusState]) -> ObservationState | None:
    """The observation state its statuses imply, by the first matching rule of 6.3; None means unchanged."""
    present = set(states)
    if not present:
        return None
    if present == {StatusState.PENDING}:
        return ObservationState.PENDING
    if present == {StatusState.NOT_ATTEMPTED}:
        return ObservationState.NOT_ATTEMPTED
    if present == {StatusState.PENDING, StatusState.NOT_ATTEMPTED}:
        return ObservationState.PENDING
    if present == {StatusState.PENDING, StatusState.ATTEMPTED} or present == {StatusState.ATTEMPTED}:
        return ObservationState.IN_PROGRESS
    if StatusState.NOT_ATTEMPTED in present or StatusState.FAILED in present:
        return ObservationState.FAILED
    if present == {StatusState.COMPLETED}:
        return ObservationState.COMPLETED
    return None


# ---------------------------------------------------------------------------------------------------------
# Value objects


def _aware(value: datetime, name: str) -> None:
    if value.utcoffset() is None:
        raise ValidationError.on(name, "Datetime must be timezone-aware (UTC) inside the domain.")


@frozen
class Summary:
    """What the telescope reports when a configuration ends (api.md 5.5)."""

    start: datetime
    end: datetime
    state: str
    time_completed: float
    reason: str = ""
    events: JsonDict = field(factory=dict)

    def __attrs_post_init__(self) -> None:
        _aware(self.start, "start")
        _aware(self.end, "end")
        errors: dict[str, list[str]] = {}
        if self.end < self.start:
            errors["non_field_errors"] = ["Summary end must not be before its start"]
        if self.time_completed < 0:
            errors["time_completed"] = ["Ensure this value is greater than or equal to 0."]
        if errors:
            raise ValidationError({"summary": errors})

    @property
    def elapsed_s(self) -> float:
        return (self.end - self.start).total_seconds()


# ---------------------------------------------------------------------------------------------------------
# Events


@frozen
class ObservationsScheduled:
    """Observations were created at these sites; the sites' last-scheduled markers move (scheduler.md 5.3)."""

    sites: tuple[str, ...]


@frozen
class ObservationStateChanged:
    """FAILED, ABORTED and NOT_ATTEMPTED results make the scheduler re-plan (6.3)."""

    observation_id: int | None
    request_id: int
    old: ObservationState
    new: ObservationState


# ---------------------------------------------------------------------------------------------------------
# The aggregate


def _status_state(value: Any) -> StatusState:
    return StatusState(value)


def _observation_state(value: Any) -> ObservationState:
    return ObservationState(value)


def _status_list(values: Iterable[ConfigurationStatus]) -> list[ConfigurationStatus]:
    return list(values)


@define(slots=False, eq=False)
class ConfigurationStatus:
    """The progress of one configuration (one repeat of it) within an observation."""

    configuration_id: int
    instrument_name: str
    guide_camera_name: str = ""
    _state: StatusState = field(default=StatusState.PENDING, converter=_status_state)
    summary: Summary | None = None
    # Hours charged for this status so far (5.4); corrections charge only the difference.
    time_charged: float = 0.0
    id: int | None = None
    modified: datetime | None = None

    @property
    def state(self) -> StatusState:
        return self._state


class Disposal(enum.Enum):
    """What cancelling does to an observation, by where its time stands relative to now (6.6)."""

    DELETE = "deleted"  # starts 72 h or more from now: no site has fetched it for long
    CANCEL = "canceled"  # starts later, within 72 h
    ABORT = "aborted"  # running now
    KEEP = "kept"  # already ended, or already finished


DELETE_AFTER = timedelta(hours=72)


@define(slots=False, eq=False)
class Observation:
    """A request placed on one telescope from ``start`` to ``end``, with one status per configuration run."""

    request_id: int
    site: str
    enclosure: str
    telescope: str
    start: datetime
    end: datetime
    configuration_statuses: list[ConfigurationStatus] = field(converter=_status_list)
    priority: int = 10
    _state: ObservationState = field(default=ObservationState.PENDING, converter=_observation_state)
    id: int | None = None
    created: datetime | None = None
    modified: datetime | None = None
    events: list[object] = field(factory=list, init=False, repr=False)

    @classmethod
    def schedule(
        cls,
        *,
        request_id: int,
        site: str,
        enclosure: str,
        telescope: str,
        start: datetime,
        end: datetime,
        statuses: Sequence[ConfigurationStatus],
        now: datetime,
        priority: int = 10,
    ) -> Observation:
        """A new PENDING observation with PENDING statuses; the caller has checked it against its request."""
        _aware(start, "start")
        _aware(end, "end")
        for status in statuses:
            status.modified = now
        observation = cls(
            request_id, site, enclosure, telescope, start, end, list(statuses), priority, created=now, modified=now
        )
        observation.events.append(ObservationsScheduled((site,)))
        return observation

    @property
    def state(self) -> ObservationState:
        return self._state

    @property
    def telescope_key(self) -> str:
        """``site.enclosure.telescope``, as the scheduler and downtimes name a telescope."""
        return f"{self.site}.{self.enclosure}.{self.telescope}"

    def status(self, status_id: int) -> ConfigurationStatus:
        found = next((s for s in self.configuration_statuses if s.id == status_id), None)
        if found is None:
            raise NotFoundError(f"configuration status {status_id}")
        return found

    # --- telescope feedback (scheduler.md 6.2-6.3) ------------------------------------------------------------

    def report(
        self, status: ConfigurationStatus, *, state: StatusState | None, summary: Summary | None, now: datetime
    ) -> None:
        """Apply one PATCH of a status: its new state where allowed, its summary (upsert), then the observation
        state (6.3) unless the status became BAD_DATA or the observation is already terminal."""
        # A terminal status takes BAD_DATA only; any other change is ignored (X4: answered 200, unchanged).
        if state is not None and (not status.state.is_terminal or state is StatusState.BAD_DATA):
            status._state = state
        if summary is not None:
            status.summary = summary
        status.modified = now
        self.modified = now
        if status.state is not StatusState.BAD_DATA and not self._state.is_terminal:
            new = observation_state_from([s.state for s in self.configuration_statuses])
            if new is not None:
                self._move(new, now)

    def charge(self, status: ConfigurationStatus, hours: float) -> float:
        """Set the status's charge to ``hours``; returns the difference to add to the allocations (5.4)."""
        difference = hours - status.time_charged
        status.time_charged = hours
        return difference

    def mark_bad_data(self, now: datetime, *, statuses_too: bool = False) -> dict[int, float]:
        """Staff judge the data bad (6.6): the observation (and optionally its statuses) become BAD_DATA and every
        charge is refunded. Returns the hours refunded per configuration id; twice refunds nothing more."""
        if self._state is not ObservationState.BAD_DATA and self._state not in BAD_DATA_FROM:
            raise ValidationError.on(
                "state",
                f"Only COMPLETED, FAILED or ABORTED observations can be marked BAD_DATA; this one is {self._state}",
            )
        refunds: dict[int, float] = {}
        for status in self.configuration_statuses:
            if status.time_charged:
                key = status.configuration_id
                refunds[key] = refunds.get(key, 0.0) + status.time_charged
                status.time_charged = 0.0
            if statuses_too and status.state.is_terminal:
                status._state = StatusState.BAD_DATA
        self._move(ObservationState.BAD_DATA, now)
        return refunds

    def move_end(self, end: datetime, now: datetime) -> None:
        """The observation now ends at ``end`` (a site's prediction or staff's decision, scheduler.md 6.2)."""
        _aware(end, "end")
        self.end, self.modified = end, now

    # --- the scheduler's side ---------------------------------------------------------------------------------

    def disposal(self, now: datetime) -> Disposal:
        """What cancelling this observation at ``now`` must do (6.6); only PENDING and IN_PROGRESS ones change."""
        if self._state.is_terminal or self.end <= now:
            return Disposal.KEEP
        if self.start <= now:
            return Disposal.ABORT
        if self.start >= now + DELETE_AFTER:
            return Disposal.DELETE
        return Disposal.CANCEL

    def cancel(self, now: datetime) -> Disposal:
        """Take the observation off the schedule by the rules of 6.6; the caller deletes it on DELETE."""
        disposal = self.disposal(now)
        if disposal is Disposal.ABORT:
            self._move(ObservationState.ABORTED, now)
        elif disposal is Disposal.CANCEL:
            self._move(ObservationState.CANCELED, now)
        return disposal

    def _move(self, new: ObservationState, now: datetime) -> None:
        if new is self._state:
            return
        old, self._state, self.modified = self._state, new, now
        self.events.append(ObservationStateChanged(self.id, self.request_id, old, new))


# ---------------------------------------------------------------------------------------------------------
# The request's outcome (6.4) and charging (5.4)

# Two percentages this close count as equal (6.4 step 3: "equality within floating tolerance counts").
PERCENT_TOLERANCE = 1e-6


def requested_seconds(configuration: Configuration) -> float:
    """Exposure seconds a configuration asks for: its repeat duration, or Σ count x time of its instrument configs."""
    if configuration.is_repeat and configuration.repeat_duration is not None:
        return configuration.repeat_duration
    return sum(ic.exposure_count * ic.exposure_time for ic in configuration.instrument_configs)


def completion_percent(statuses: Sequence[ConfigurationStatus], configurations: Mapping[int, Configuration]) -> float:
    """100 x Σ completed / Σ requested over the observation's statuses (6.4 step 2); nothing requested is 100 %."""
    requested = completed = 0.0
    for status in statuses:
        configuration = configurations.get(status.configuration_id)
        if configuration is None:
            continue
        requested += requested_seconds(configuration)
        if status.summary is None:
            continue
        if configuration.is_repeat:
            completed += status.summary.elapsed_s
        else:
            completed += status.summary.time_completed
    return 100.0 if requested <= 0 else 100.0 * completed / requested


def settle_request(
    group: RequestGroup,
    request: Request,
    observation: Observation,
    *,
    failed_observations: int,
    max_failures: int,
    now: datetime,
) -> bool:
    """Move the request (and its group) as the observation's outcome says (6.4, 6.5); True if it changed.

    ``failed_observations`` counts the request's FAILED observations, this one included.
    """
    if request.state is RequestState.COMPLETED:
        return False
    statuses = observation.configuration_statuses
    if group.observation_type is ObservationType.REAL_TIME:
        if len(statuses) == 1 and statuses[0].state is StatusState.COMPLETED:
            return group.complete_request(request, now)
        return False
    configurations = {c.id: c for c in request.configurations if c.id is not None}
    percent = completion_percent(statuses, configurations)
    threshold = request.acceptability_threshold if request.acceptability_threshold is not None else 100.0
    if percent >= threshold - PERCENT_TOLERANCE or observation.state is ObservationState.COMPLETED:
        return group.complete_request(request, now)
    if max_failures > 0 and observation.state is ObservationState.FAILED and failed_observations >= max_failures:
        return group.reach_failure_limit(request, now)
    last_end = group.max_window_time
    if group.observation_type.is_scheduled and not request.state.is_terminal and last_end and last_end < now:
        return group.expire_request(request, now)
    return False


def charge_seconds(summary: Summary, cap_s: float | None = None) -> float:
    """Seconds to charge for a reported configuration: its elapsed wall time, capped for rapid response (5.4)."""
    elapsed = summary.elapsed_s
    return elapsed if cap_s is None else min(elapsed, cap_s)


# ---------------------------------------------------------------------------------------------------------
# Placing a request: what the scheduler or a site asks to create (api.md 6, scheduler.md 5.1 step 4 and 9)


@frozen
class StatusPlan:
    """One configuration status of a planned observation; no guide camera means the rules choose one."""

    configuration_id: int
    instrument_name: str
    guide_camera_name: str | None = None


def _status_plans(values: Iterable[StatusPlan]) -> tuple[StatusPlan, ...]:
    return tuple(values)


@frozen
class ObservationPlan:
    """A request placed on a telescope; without statuses, one per configuration and repeat is chosen."""

    request_id: int
    site: str
    enclosure: str
    telescope: str
    start: datetime
    end: datetime
    statuses: tuple[StatusPlan, ...] = field(default=(), converter=_status_plans)
    priority: int = 10


def place(
    plan: ObservationPlan, group: RequestGroup, request: Request, observatory: Observatory, now: datetime
) -> Observation:
    """The observation the plan describes, checked against its request (scheduler.md 9, X11-X15); ValidationError
    with the field-error tree of the item otherwise."""
    if request.state is not RequestState.PENDING:
        raise ValidationError.on("request", f"Request {request.id} is in state {request.state} and cannot be scheduled")
    telescope = observatory.find_telescope(plan.site, plan.enclosure, plan.telescope)
    problem = _placement_problem(plan, group, request, telescope, observatory)
    if problem is not None:
        raise ValidationError.general(problem)
    assert telescope is not None  # noqa: S101 - _placement_problem refuses an unknown telescope
    if plan.statuses:
        statuses = _planned_statuses(plan, request, telescope, observatory)
    else:
        statuses = default_statuses(request, telescope, observatory)
    return Observation.schedule(
        request_id=plan.request_id,
        site=plan.site,
        enclosure=plan.enclosure,
        telescope=plan.telescope,
        start=plan.start,
        end=plan.end,
        statuses=statuses,
        now=now,
        priority=plan.priority,
    )


def _placement_problem(
    plan: ObservationPlan, group: RequestGroup, request: Request, telescope: Telescope | None, observatory: Observatory
) -> str | None:
    if plan.end <= plan.start:
        return "End time must be after start time"
    if group.observation_type.is_scheduled and not any(
        w.start.replace(microsecond=0) <= plan.start and plan.end <= w.end for w in request.windows
    ):
        return "The start and end times do not fall within any window of the request"
    location = request.location
    mismatch = "The observation's site, enclosure and telescope must match the request location"
    if telescope is None:
        return mismatch
    if location is not None:
        wanted = (location.site, location.enclosure, location.telescope)
        given = (plan.site, plan.enclosure, plan.telescope)
        if location.telescope_class and location.telescope_class != telescope_class(telescope.aperture):
            return mismatch
        if any(w and w != g for w, g in zip(wanted, given, strict=True)):
            return mismatch
    return None


def _planned_statuses(
    plan: ObservationPlan, request: Request, telescope: Telescope, observatory: Observatory
) -> list[ConfigurationStatus]:
    configurations = {c.id: c for c in request.configurations}
    here = observatory.instruments_of(telescope.id)
    where = f"{telescope.code}.{plan.enclosure}.{plan.site}"
    errors: list[ErrorTree] = []
    statuses: list[ConfigurationStatus] = []
    for item in plan.statuses:
        configuration = configurations.get(item.configuration_id)
        if configuration is None:
            errors.append(
                {"configuration": [f"Configuration {item.configuration_id} is not part of request {request.id}"]}
            )
            continue
        instrument = next((i for i in here if i.code.casefold() == item.instrument_name.casefold()), None)
        if instrument is None or instrument.state is InstrumentState.DISABLED:
            errors.append({"instrument_name": [f"Instrument {item.instrument_name} is not at {where}"]})
            continue
        if not _is_of_type(instrument, configuration, observatory):
            errors.append(
                {"instrument_name": [f"Instrument {instrument.code} is not of type {configuration.instrument_type}"]}
            )
            continue
        autoguider = _autoguider_code(instrument, observatory)
        asked = item.guide_camera_name
        if asked is None:
            guider = _guide_camera(instrument, configuration, observatory)
        elif not asked.strip() or asked.casefold() == autoguider.casefold():
            guider = autoguider if asked.strip() else ""
        else:
            errors.append(
                {"guide_camera_name": [f"Guide camera {asked} is not valid for instrument {instrument.code}"]}
            )
            continue
        errors.append({})
        statuses.append(ConfigurationStatus(configuration.id or 0, instrument.code, guider))
    if any(errors):
        raise ValidationError({"configuration_statuses": errors})
    return statuses


def default_statuses(request: Request, telescope: Telescope, observatory: Observatory) -> list[ConfigurationStatus]:
    """One PENDING status per configuration per repeat (scheduler.md 5.1 step 4): the SCHEDULABLE instrument of the
    configuration's type on the telescope with the lowest code, else a non-DISABLED one."""
    here = observatory.instruments_of(telescope.id)
    statuses: list[ConfigurationStatus] = []
    for _ in range(max(request.configuration_repeats, 1)):
        for configuration in request.configurations_in_order():
            fitting = [i for i in here if _is_of_type(i, configuration, observatory)]
            schedulable = [i for i in fitting if i.state is InstrumentState.SCHEDULABLE]
            usable = schedulable or [i for i in fitting if i.state is not InstrumentState.DISABLED]
            if not usable:
                raise ValidationError.on(
                    "configuration_statuses",
                    f"No instrument of type {configuration.instrument_type} is at {telescope.code}",
                )
            instrument = usable[0]
            guider = _guide_camera(instrument, configuration, observatory)
            statuses.append(ConfigurationStatus(configuration.id or 0, instrument.code, guider))
    return statuses


def _is_of_type(instrument: Instrument, configuration: Configuration, observatory: Observatory) -> bool:
    itype = observatory.instrument_types.get(instrument.instrument_type_id)
    return itype is not None and itype.code.casefold() == configuration.instrument_type.casefold()


def _autoguider_code(instrument: Instrument, observatory: Observatory) -> str:
    camera = observatory.cameras.get(instrument.autoguider_camera_id)
    return camera.code if camera is not None else ""


def _guide_camera(instrument: Instrument, configuration: Configuration, observatory: Observatory) -> str:
    """The instrument's autoguider (its own camera when it guides itself), or "" with guiding and acquisition OFF."""
    guiding = configuration.guiding_config.mode.upper()
    acquisition = configuration.acquisition_config.mode.upper()
    if guiding in (OFF, "") and acquisition in (OFF, ""):
        return ""
    return _autoguider_code(instrument, observatory)

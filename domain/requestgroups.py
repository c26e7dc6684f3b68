"""The request language (request group -> request -> configuration -> instrument config) and its state machine.

requests.md section 2 fixes the tree, section 6 the states. The model is deliberately plain: it holds what a
client asked for (after the edge has parsed it) and the states the system moved it through. Validation of ranges,
required fields and configdb codes belongs to rule objects of the validation slice, which need to see a payload
that breaks them; so value objects here only refuse what no layer may ever hand the core (naive datetimes).

Field names are the OCS wire names (``ra``, ``exposure_time``, ``repeat_duration``), not ``ra_deg`` or
``exposure_time_s`` as CONVENTIONS 3 would have it. The request language *is* the OCS language: the error
trees that validation rules produce are keyed by these names (``{"target": {"ra": [...]}}``), clients and the
scheduler feed use them, and a rename table between wire and domain for some sixty fields would be a standing
source of bugs. The units are fixed for the whole language by requests.md: seconds for exposure times,
durations and overheads; degrees for ra, dec and angles; hours for ``hour_angle``; mas/yr for proper motion;
mas for parallax; arcsec/s and arcsec/s^2 for satellite rates; MJD for orbital epochs; Julian years for
``epoch``.

The group is the aggregate: requests change state only through its verbs, which record events on the group.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from attrs import Attribute, define, evolve, field, frozen
from attrs.validators import optional

from domain.errors import DomainError, NotFoundError, ValidationError
from domain.observatory import JsonDict

OFF = "OFF"  # the acquisition and guiding mode that means "none"; accepted whatever configdb lists


# ---------------------------------------------------------------------------------------------------------
# Enumerations (requests.md 2.2)


class ObservationType(enum.StrEnum):
    NORMAL = "NORMAL"
    RAPID_RESPONSE = "RAPID_RESPONSE"
    TIME_CRITICAL = "TIME_CRITICAL"
    DIRECT = "DIRECT"
    REAL_TIME = "REAL_TIME"

    @property
    def is_scheduled(self) -> bool:
        """DIRECT and REAL_TIME have no windows, no location, no visibility, allocation or IPP checks."""
        return self not in (ObservationType.DIRECT, ObservationType.REAL_TIME)


class Operator(enum.StrEnum):
    """How a group's requests combine. The legacy ``AND``/``ONEOF`` exist only inside the duration code."""

    SINGLE = "SINGLE"
    MANY = "MANY"


class RequestState(enum.StrEnum):
    """States of a request, and of a request group (the same set). There is no SCHEDULED state."""

    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    WINDOW_EXPIRED = "WINDOW_EXPIRED"
    FAILURE_LIMIT_REACHED = "FAILURE_LIMIT_REACHED"
    CANCELED = "CANCELED"

    @property
    def is_terminal(self) -> bool:
        return self is not RequestState.PENDING


class OptimizationType(enum.StrEnum):
    TIME = "TIME"
    AIRMASS = "AIRMASS"


class TargetType(enum.StrEnum):
    ICRS = "ICRS"
    ORBITAL_ELEMENTS = "ORBITAL_ELEMENTS"
    HOUR_ANGLE = "HOUR_ANGLE"
    SATELLITE = "SATELLITE"


class OrbitalScheme(enum.StrEnum):
    ASA_MAJOR_PLANET = "ASA_MAJOR_PLANET"
    ASA_MINOR_PLANET = "ASA_MINOR_PLANET"
    ASA_COMET = "ASA_COMET"
    JPL_MAJOR_PLANET = "JPL_MAJOR_PLANET"
    JPL_MINOR_PLANET = "JPL_MINOR_PLANET"
    MPC_MINOR_PLANET = "MPC_MINOR_PLANET"
    MPC_COMET = "MPC_COMET"


# Schemes the visibility engine has an ephemeris for (2.9); the others pass field validation only.
VISIBILITY_SCHEMES = frozenset(
    {OrbitalScheme.MPC_MINOR_PLANET, OrbitalScheme.MPC_COMET, OrbitalScheme.JPL_MAJOR_PLANET}
)


def is_repeat_type(configuration_type: str) -> bool:
    """A configuration type whose code contains ``REPEAT`` runs for a ``repeat_duration`` (2.2)."""
    return "REPEAT" in configuration_type.upper()


# ---------------------------------------------------------------------------------------------------------
# Value objects


def _aware(instance: object, attribute: Attribute[datetime], value: datetime) -> None:
    """Naive datetimes are made UTC at the edge (CONVENTIONS 3); one reaching the core is a bug upstream of it."""
    if value.utcoffset() is None:
        raise ValidationError.on(attribute.name, "Datetime must be timezone-aware (UTC) inside the domain.")


_aware_or_none = optional(_aware)


@frozen
class Location:
    """Where a request may run; empty strings mean "any" (2.5)."""

    telescope_class: str
    site: str = ""
    enclosure: str = ""
    telescope: str = ""

    @property
    def is_fully_set(self) -> bool:
        return all((self.telescope_class, self.site, self.enclosure, self.telescope))


@frozen
class Window:
    """An interval in which a request may start and finish (2.6); timezone-aware UTC."""

    start: datetime = field(validator=_aware)
    end: datetime = field(validator=_aware)

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


# Target fields by type (2.9): what is stored and echoed besides name, type and extra_params.
TARGET_TYPE_FIELDS: Mapping[TargetType, tuple[str, ...]] = {
    TargetType.ICRS: ("ra", "dec", "proper_motion_ra", "proper_motion_dec", "parallax", "epoch"),
    TargetType.HOUR_ANGLE: ("hour_angle", "dec", "proper_motion_ra", "proper_motion_dec", "parallax", "epoch"),
    TargetType.SATELLITE: (
        "altitude",
        "azimuth",
        "diff_altitude_rate",
        "diff_azimuth_rate",
        "diff_altitude_acceleration",
        "diff_azimuth_acceleration",
        "diff_epoch",
    ),
    TargetType.ORBITAL_ELEMENTS: (
        "scheme",
        "epochofel",
        "orbinc",
        "longascnode",
        "longofperih",
        "argofperih",
        "meandist",
        "perihdist",
        "eccentricity",
        "meanlong",
        "meananom",
        "dailymot",
        "epochofperih",
    ),
}

# Required fields per type and, for orbital elements, per scheme (2.9); data for the validation slice.
_ORBITAL_COMMON = ("scheme", "epochofel", "orbinc", "longascnode", "eccentricity")
_SCHEME_FIELDS: Mapping[OrbitalScheme, tuple[str, ...]] = {
    OrbitalScheme.ASA_MAJOR_PLANET: ("longofperih", "meandist", "meanlong", "dailymot"),
    OrbitalScheme.ASA_MINOR_PLANET: ("argofperih", "meandist", "meananom"),
    OrbitalScheme.MPC_MINOR_PLANET: ("argofperih", "meandist", "meananom"),
    OrbitalScheme.ASA_COMET: ("argofperih", "perihdist", "epochofperih"),
    OrbitalScheme.JPL_MINOR_PLANET: ("argofperih", "perihdist", "epochofperih"),
    OrbitalScheme.MPC_COMET: ("argofperih", "perihdist", "epochofperih"),
    OrbitalScheme.JPL_MAJOR_PLANET: ("argofperih", "meandist", "meananom", "dailymot"),
}


def required_target_fields(target_type: TargetType, scheme: OrbitalScheme | None = None) -> tuple[str, ...]:
    """The fields a target of this type (and orbital scheme) must carry, in the order errors are reported."""
    if target_type is TargetType.ICRS:
        return ("name", "type", "ra", "dec")
    if target_type is TargetType.HOUR_ANGLE:
        return ("name", "type", "hour_angle", "dec")
    if target_type is TargetType.SATELLITE:
        return ("name", "type", *TARGET_TYPE_FIELDS[TargetType.SATELLITE])
    extra = _SCHEME_FIELDS.get(scheme, ()) if scheme is not None else ()
    return ("name", "type", *_ORBITAL_COMMON, *extra)


def _optional_scheme(value: Any) -> OrbitalScheme | None:
    return None if value is None else OrbitalScheme(value)


@frozen
class Target:
    """What to point at (2.9). One class for the four types; only the type's own fields are meaningful.

    Proper motion, parallax and epoch carry the spec's defaults whatever the type; ``type_fields`` reports the
    fields that belong to the type, so off-type values are never stored or echoed (the *fixed* quirk of 2.9).
    """

    name: str
    type: TargetType = field(converter=TargetType)
    ra: float | None = None
    dec: float | None = None
    hour_angle: float | None = None
    proper_motion_ra: float = 0.0
    proper_motion_dec: float = 0.0
    parallax: float = 0.0
    epoch: float = 2000.0
    altitude: float | None = None
    azimuth: float | None = None
    diff_altitude_rate: float | None = None
    diff_azimuth_rate: float | None = None
    diff_altitude_acceleration: float | None = None
    diff_azimuth_acceleration: float | None = None
    diff_epoch: float | None = None
    scheme: OrbitalScheme | None = field(default=None, converter=_optional_scheme)
    epochofel: float | None = None
    orbinc: float | None = None
    longascnode: float | None = None
    longofperih: float | None = None
    argofperih: float | None = None
    meandist: float | None = None
    perihdist: float | None = None
    eccentricity: float | None = None
    meanlong: float | None = None
    meananom: float | None = None
    dailymot: float | None = None
    epochofperih: float | None = None
    extra_params: JsonDict = field(factory=dict)

    @classmethod
    def icrs(cls, name: str, ra: float, dec: float, **more: Any) -> Target:
        """A sidereal target at (ra, dec) degrees, ICRS; ``more`` sets proper motion, parallax, epoch."""
        return cls(name, TargetType.ICRS, ra=ra, dec=dec, **more)

    @property
    def is_sidereal(self) -> bool:
        """Whether slews to and from it can be computed from coordinates (4.2 step 4.4)."""
        return self.type is TargetType.ICRS

    def type_fields(self) -> dict[str, Any]:
        """The fields this target's type uses, nulls dropped: what is stored and echoed (2.9)."""
        names = ("name", "type", *TARGET_TYPE_FIELDS[self.type], "extra_params")
        values = {name: getattr(self, name) for name in names}
        return {name: value for name, value in values.items() if value is not None}


@frozen
class Constraints:
    """Observing conditions a request needs (2.10)."""

    max_airmass: float = 1.6
    min_lunar_distance: float = 30.0
    max_lunar_phase: float = 1.0
    max_seeing: float | None = None
    min_transparency: float | None = None
    extra_params: JsonDict = field(factory=dict)


@frozen
class AcquisitionConfig:
    """How to put the target on the slit or detector (2.11).

    An empty ``mode`` means "not chosen yet": validation stores configdb's default (or ``OFF``), and the
    duration resolves it the same way, so a stored request never depends on that resolution.
    """

    mode: str = ""
    exposure_time: float | None = None
    extra_params: JsonDict = field(factory=dict)


@frozen
class GuidingConfig:
    """Guiding during the exposures (2.11); overhead is charged only when ``optional`` is false."""

    mode: str = ""
    optional: bool = True
    optical_elements: JsonDict = field(factory=dict)
    exposure_time: float | None = None
    extra_params: JsonDict = field(factory=dict)


@frozen
class RegionOfInterest:
    """A detector sub-frame in pixels; None until validation fills the camera's full extent (2.8)."""

    x1: int | None = None
    x2: int | None = None
    y1: int | None = None
    y2: int | None = None


@frozen
class InstrumentConfig:
    """``exposure_count`` exposures of ``exposure_time`` seconds with one set of optical elements (2.8).

    ``optical_elements`` maps the singular group type to an element code (``{"filter": "air"}``).
    """

    exposure_time: float
    exposure_count: int
    mode: str = ""
    rotator_mode: str = ""
    optical_elements: dict[str, str] = field(factory=dict)
    extra_params: JsonDict = field(factory=dict)
    rois: tuple[RegionOfInterest, ...] = field(default=(), converter=tuple)


@frozen
class Configuration:
    """One instrument type pointed at one target, running its instrument configs in order (2.7).

    ``priority`` is the 1-based position in the request (assigned by ``Request.create``); ``id`` is None until
    stored. ``fill_window`` is input only and never stored (3.8).
    """

    instrument_type: str
    type: str
    instrument_configs: tuple[InstrumentConfig, ...] = field(converter=tuple)
    target: Target
    constraints: Constraints = field(factory=Constraints)
    acquisition_config: AcquisitionConfig = field(factory=AcquisitionConfig)
    guiding_config: GuidingConfig = field(factory=GuidingConfig)
    repeat_duration: float | None = None
    extra_params: JsonDict = field(factory=dict)
    priority: int = 0
    fill_window: bool = False
    instrument_name: str = ""
    guide_camera_name: str = ""
    id: int | None = None

    @property
    def is_repeat(self) -> bool:
        """Runs for ``repeat_duration`` seconds rather than for the sum of its instrument configs (4.2 step 3)."""
        return is_repeat_type(self.type) and self.repeat_duration is not None


# ---------------------------------------------------------------------------------------------------------
# The state machine (requests.md 6.1), as data


# New state -> the states it may be entered from. PENDING is entered from COMPLETED only by the BAD_DATA
# reset (6.6); the verbs below keep that edge to that one verb.
ALLOWED_FROM: Mapping[RequestState, frozenset[RequestState]] = {
    RequestState.COMPLETED: frozenset(
        {
            RequestState.PENDING,
            RequestState.WINDOW_EXPIRED,
            RequestState.CANCELED,
            RequestState.FAILURE_LIMIT_REACHED,
        }
    ),
    RequestState.WINDOW_EXPIRED: frozenset({RequestState.PENDING}),
    RequestState.CANCELED: frozenset({RequestState.PENDING}),
    RequestState.FAILURE_LIMIT_REACHED: frozenset({RequestState.PENDING}),
    RequestState.PENDING: frozenset({RequestState.COMPLETED}),
}


def can_transition(old: RequestState, new: RequestState) -> bool:
    """Whether the table allows ``old -> new``; setting the same state is always allowed (a no-op)."""
    return old is new or old in ALLOWED_FROM[new]


class IllegalTransitionError(ValidationError):
    """A user action asked for a change the table forbids; answered 400 ``{"errors": [message]}`` (6.1)."""

    def __init__(self, old: RequestState, new: RequestState, subject: object) -> None:
        self.old, self.new = old, new
        super().__init__({"errors": [f"Cannot transition from request state {old} to {new} for {subject}"]})


def check_transition(old: RequestState, new: RequestState, subject: object) -> None:
    """Raise IllegalTransitionError unless the table allows ``old -> new``."""
    if not can_transition(old, new):
        raise IllegalTransitionError(old, new, subject)


# Group state from its requests' states: the first of these that any request has (6.5).
GROUP_STATE_PRIORITY: Mapping[Operator, tuple[RequestState, ...]] = {
    Operator.SINGLE: (
        RequestState.WINDOW_EXPIRED,
        RequestState.PENDING,
        RequestState.COMPLETED,
        RequestState.FAILURE_LIMIT_REACHED,
        RequestState.CANCELED,
    ),
    Operator.MANY: (
        RequestState.PENDING,
        RequestState.COMPLETED,
        RequestState.WINDOW_EXPIRED,
        RequestState.FAILURE_LIMIT_REACHED,
        RequestState.CANCELED,
    ),
}


def aggregate_state(operator: Operator, request_states: Iterable[RequestState]) -> RequestState:
    """The group state its requests imply (6.5); a group without requests stays PENDING."""
    present = set(request_states)
    return next((state for state in GROUP_STATE_PRIORITY[operator] if state in present), RequestState.PENDING)


# ---------------------------------------------------------------------------------------------------------
# Events


@frozen
class RequestGroupSubmitted:
    """A group was accepted; it carries the group itself because ids exist only once storage has run."""

    group: RequestGroup


@frozen
class RequestStateChanged:
    """IPP moves on it (5.2); CANCELED cancels the request's pending observations (6.6)."""

    group_id: int | None
    request_id: int | None
    old: RequestState
    new: RequestState


@frozen
class RequestSuspended:
    """Staff changed when a request may next be scheduled; the scheduler's markers move (scheduler.md)."""

    group_id: int | None
    request_id: int | None
    until: datetime | None


@frozen
class RequestGroupStateChanged:
    """COMPLETED notifies the proposal's members (6.1)."""

    group_id: int | None
    old: RequestState
    new: RequestState


# ---------------------------------------------------------------------------------------------------------
# Entities


def _state(value: Any) -> RequestState:
    return RequestState(value)


def _configuration_list(values: Iterable[Configuration]) -> list[Configuration]:
    return list(values)


def _window_list(values: Iterable[Window]) -> list[Window]:
    return list(values)


def _request_list(values: Iterable[Request]) -> list[Request]:
    return list(values)


def _describe(kind: str, entity_id: int | None) -> str:
    return str(entity_id) if entity_id is not None else f"an unsaved {kind}"


@define(slots=False, eq=False)
class Request:
    """One candidate observation: ordered configurations, its windows and location (2.4).

    Its content is fixed at submission; its state changes only through the verbs of its ``RequestGroup``.
    """

    configurations: list[Configuration] = field(converter=_configuration_list)
    windows: list[Window] = field(factory=list, converter=_window_list)
    location: Location | None = None
    observation_note: str = ""
    optimization_type: OptimizationType = field(default=OptimizationType.TIME, converter=OptimizationType)
    acceptability_threshold: float | None = None
    configuration_repeats: int = 1
    extra_params: JsonDict = field(factory=dict)
    id: int | None = None
    # Seconds (domain.duration), fixed at submission: allocation checks, time limits and charging read it.
    duration: int | None = None
    _state: RequestState = field(default=RequestState.PENDING, converter=_state)
    suspend_until: datetime | None = field(default=None, validator=_aware_or_none)
    created: datetime | None = field(default=None, validator=_aware_or_none)
    modified: datetime | None = field(default=None, validator=_aware_or_none)

    @classmethod
    def create(cls, configurations: Sequence[Configuration], **fields: Any) -> Request:
        """A new PENDING request whose configurations get priorities 1..n in the order given (2.7)."""
        numbered = [evolve(c, priority=number) for number, c in enumerate(configurations, start=1)]
        return cls(numbered, **fields)

    def revised(self, configurations: Sequence[Configuration], **changes: Any) -> Request:
        """A new unsaved request with this one's content but these configurations (priorities 1..n) and any
        other field in ``changes``; what validation and the pattern helpers build from a submitted request."""
        fields: dict[str, Any] = {
            "windows": self.windows,
            "location": self.location,
            "observation_note": self.observation_note,
            "optimization_type": self.optimization_type,
            "acceptability_threshold": self.acceptability_threshold,
            "configuration_repeats": self.configuration_repeats,
            "extra_params": self.extra_params,
        }
        return Request.create(configurations, **{**fields, **changes})

    @property
    def state(self) -> RequestState:
        return self._state

    def configurations_in_order(self) -> list[Configuration]:
        """The configurations by priority, submission order breaking ties (the order they execute in)."""
        return sorted(self.configurations, key=lambda c: c.priority)

    @property
    def earliest_window_start(self) -> datetime | None:
        return min((w.start for w in self.windows), default=None)

    @property
    def latest_window_end(self) -> datetime | None:
        return max((w.end for w in self.windows), default=None)

    def instrument_types(self) -> list[str]:
        """The instrument types of its configurations, each once, in order of first use."""
        return list(dict.fromkeys(c.instrument_type for c in self.configurations_in_order()))

    def _move(self, new: RequestState, now: datetime) -> RequestState:
        old, self._state, self.modified = self._state, new, now
        return old


@define(slots=False, eq=False)
class RequestGroup:
    """The aggregate root: a named set of requests submitted together on one proposal (2.3).

    Content is immutable after submission; the verbs below change states only, each recording events. User
    actions (``cancel``) refuse an illegal change; automatic ones (telescope feedback, expiry) skip it
    silently and report whether anything changed, as 6.1's guarded updates do.
    """

    proposal: str
    submitter: str
    name: str
    observation_type: ObservationType = field(converter=ObservationType)
    operator: Operator = field(converter=Operator)
    ipp_value: float
    requests: list[Request] = field(converter=_request_list)
    id: int | None = None
    _state: RequestState = field(default=RequestState.PENDING, converter=_state)
    created: datetime | None = field(default=None, validator=_aware_or_none)
    modified: datetime | None = field(default=None, validator=_aware_or_none)
    events: list[object] = field(factory=list, init=False, repr=False)

    @classmethod
    def submit(
        cls,
        *,
        proposal: str,
        submitter: str,
        name: str,
        observation_type: ObservationType | str,
        operator: Operator | str,
        ipp_value: float,
        requests: Sequence[Request],
        now: datetime,
    ) -> RequestGroup:
        """A new PENDING group (and PENDING requests) created at ``now``; validation has already passed."""
        for request in requests:
            request._state, request.created, request.modified = RequestState.PENDING, now, now
        group = cls(
            proposal,
            submitter,
            name,
            ObservationType(observation_type),
            Operator(operator),
            ipp_value,
            list(requests),
            created=now,
            modified=now,
        )
        group.events.append(RequestGroupSubmitted(group))
        return group

    # --- reads -----------------------------------------------------------------------------------------------

    @property
    def state(self) -> RequestState:
        return self._state

    @property
    def min_window_time(self) -> datetime | None:
        return min((w.start for r in self.requests for w in r.windows), default=None)

    @property
    def max_window_time(self) -> datetime | None:
        return max((w.end for r in self.requests for w in r.windows), default=None)

    def request(self, request_id: int) -> Request:
        """The member request with this id."""
        found = next((r for r in self.requests if r.id == request_id), None)
        if found is None:
            raise NotFoundError(f"Request {request_id} is not in request group {_describe('group', self.id)}")
        return found

    # --- user actions (refused when illegal) ------------------------------------------------------------------

    def cancel(self, now: datetime) -> bool:
        """Cancel the group and its pending requests (6.6); False if it already was canceled."""
        check_transition(self._state, RequestState.CANCELED, _describe("request group", self.id))
        return self._set_state(RequestState.CANCELED, now)

    def suspend(self, request: Request, until: datetime | None, now: datetime) -> None:
        """Staff hold a PENDING request out of the scheduler feed until ``until`` (None lifts the hold, 6.7)."""
        self._check_member(request)
        if until is not None and until <= now:
            raise ValidationError.on("suspend_until", "The suspend_until value must be in the future")
        if request.state is not RequestState.PENDING:
            raise ValidationError.on(
                "suspend_until",
                f"Can only suspend scheduling on PENDING Requests - this request state is {request.state}",
            )
        request.suspend_until, request.modified = until, now
        self.events.append(RequestSuspended(self.id, request.id, until))

    # --- automatic changes (skipped when illegal) --------------------------------------------------------------

    def complete_request(self, request: Request, now: datetime) -> bool:
        """An observation of the request succeeded (6.4): COMPLETED, even late after expiry or cancel."""
        return self._automatic(request, RequestState.COMPLETED, now)

    def reach_failure_limit(self, request: Request, now: datetime) -> bool:
        """The request failed as often as the configured limit allows (6.4 step 4)."""
        return self._automatic(request, RequestState.FAILURE_LIMIT_REACHED, now)

    def expire_request(self, request: Request, now: datetime) -> bool:
        """The request's time is over: last window ended, or for DIRECT/REAL_TIME its observation ended."""
        return self._automatic(request, RequestState.WINDOW_EXPIRED, now)

    def expire(self, now: datetime) -> list[Request]:
        """The expiry job for a scheduled group (6.6): expire each PENDING request whose last window has ended.

        Non-scheduled groups have no windows; the job expires their requests by observation with
        ``expire_request``. Returns the requests expired.
        """
        if self._state.is_terminal or not self.observation_type.is_scheduled:
            return []
        expired = [
            r
            for r in self.requests
            if r.state is RequestState.PENDING and r.latest_window_end is not None and r.latest_window_end < now
        ]
        for request in expired:
            self._move_request(request, RequestState.WINDOW_EXPIRED, now)
        if expired:
            self.refresh_state(now)
        return expired

    def reset_after_bad_data(self, request: Request, now: datetime) -> bool:
        """Staff marked the request's completing observation BAD_DATA (6.6): try again if there is time.

        A COMPLETED request whose last window ends after ``now`` goes back to PENDING, and so does its group.
        Decision: nothing happens when the group is CANCELED, WINDOW_EXPIRED or FAILURE_LIMIT_REACHED, since
        the group could not follow (the table allows PENDING only from COMPLETED) and a pending request in a
        finished group would be scheduled for nobody.
        """
        self._check_member(request)
        end = request.latest_window_end
        if request.state is not RequestState.COMPLETED or end is None or end <= now:
            return False
        if self._state not in (RequestState.COMPLETED, RequestState.PENDING):
            return False
        self._move_request(request, RequestState.PENDING, now)
        self._apply_group_state(aggregate_state(self.operator, self._request_states()), now, allow_reset=True)
        return True

    def refresh_state(self, now: datetime) -> bool:
        """Re-derive the group state from its requests (6.5) when the table allows; True if it changed."""
        return self._apply_group_state(aggregate_state(self.operator, self._request_states()), now)

    # --- internals -----------------------------------------------------------------------------------------------

    def _request_states(self) -> list[RequestState]:
        return [r.state for r in self.requests]

    def _check_member(self, request: Request) -> None:
        if not any(r is request for r in self.requests):
            raise DomainError(f"Request {_describe('request', request.id)} is not part of this request group")

    def _automatic(self, request: Request, new: RequestState, now: datetime) -> bool:
        self._check_member(request)
        if request.state is new or not can_transition(request.state, new) or new is RequestState.PENDING:
            return False
        self._move_request(request, new, now)
        self.refresh_state(now)
        return True

    def _move_request(self, request: Request, new: RequestState, now: datetime) -> None:
        old = request._move(new, now)
        self.events.append(RequestStateChanged(self.id, request.id, old, new))

    def _apply_group_state(self, new: RequestState, now: datetime, allow_reset: bool = False) -> bool:
        if new is self._state or not can_transition(self._state, new):
            return False
        if new is RequestState.PENDING and not allow_reset:
            return False
        return self._set_state(new, now)

    def _set_state(self, new: RequestState, now: datetime) -> bool:
        if new is self._state:
            return False
        old, self._state, self.modified = self._state, new, now
        self.events.append(RequestGroupStateChanged(self.id, old, new))
        if new in (RequestState.CANCELED, RequestState.WINDOW_EXPIRED):
            # The group's end state carries over to the requests still waiting in it (6.1).
            for request in self.requests:
                if request.state is RequestState.PENDING:
                    self._move_request(request, new, now)
        return True

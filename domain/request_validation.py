"""Semantic validation of a submitted request group (requests.md section 3), pure over configdb and semesters.

The edge turns the JSON body into domain objects (types, required keys, plain ranges, enum values: syntax);
``validate_request_group`` does everything that needs the observatory, the semesters, the proposal and the
caller, in the order of 3.1, and returns the group ready to submit: defaults filled (modes, binning, rotator
mode, acquisition forced off, acceptability threshold, dither pattern, window starts), codes rewritten to
configdb's spelling, priorities 1..n, durations fixed. A refusal is one ``ValidationError`` carrying the whole
nested error tree of 3.2.

Levels, each run only when the one before it is clean:

1. field level, bottom-up and complete: every configuration (``domain.configuration_checks``), the location's
   codes and rules, each window; then the request's own field rules on ``configurations`` and ``windows``;
2. request level, per request: instrument availability at the location, mosaic pattern, then (scheduled types
   only, when the caller passes the visibility callbacks) fill_window and the visibility check;
3. group level, first broken rule only: membership, active proposal, ipp range, operator against the request
   count, and no HOUR_ANGLE target in a scheduled group. Time limits, allocations and IPP come after this, in
   the application layer.

Visibility is astronomy behind a port, so it is injected: ``largest_interval(request)`` gives the longest
visible interval in seconds (3.8 step 4), and ``visibility_errors(request, largest_s)`` the messages of 3.8
steps 6-7, reported on the request. Both are called with the request after its defaults, so the visibility
refusal keeps its place in the observable order (before every group-level rule).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from attrs import evolve, field, frozen

from domain.configuration_checks import broken_messages, check_configuration
from domain.duration import fill_window, request_duration
from domain.errors import NON_FIELD, ErrorTree, ValidationError
from domain.instrument_catalogue import Catalogue
from domain.observatory import Observatory, telescope_class
from domain.permissions import Actor
from domain.proposals import Proposal, Semester
from domain.requestgroups import (
    Configuration,
    Location,
    ObservationType,
    Operator,
    Request,
    RequestGroup,
    TargetType,
    Window,
)
from domain.rules import check_rule

# A window whose start the client left out: the edge builds ``Window(START_NOT_GIVEN, end)`` and validation
# starts it at ``now`` (2.6), so the edge never needs a clock.
START_NOT_GIVEN = datetime.min.replace(tzinfo=UTC)
MOSAIC_PATTERNS = ("line", "grid", "custom")
DEFAULT_IPP_BOUNDS = (0.5, 2.0)

LargestInterval = Callable[[Request], float]
VisibilityErrors = Callable[[Request, float], Sequence[str]]


def window_without_start(end: datetime) -> Window:
    """A window the client gave no start for; validation starts it now."""
    return Window(START_NOT_GIVEN, end)


class SubmittedRequestGroup(Protocol):
    """What the client asked for, as the edge parsed it: codes as given, modes possibly empty. The edge's own
    parsed group satisfies it, and so does ``RequestGroupSubmission``."""

    @property
    def proposal(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def observation_type(self) -> ObservationType: ...

    @property
    def operator(self) -> Operator: ...

    @property
    def ipp_value(self) -> float: ...

    @property
    def requests(self) -> Sequence[Request]: ...


@frozen
class RequestGroupSubmission:
    """A ``SubmittedRequestGroup`` built in code (tests, helpers that expand a group before submitting it)."""

    proposal: str
    name: str
    observation_type: ObservationType = field(converter=ObservationType)
    operator: Operator = field(converter=Operator)
    ipp_value: float
    requests: tuple[Request, ...] = field(converter=tuple)


@frozen
class ValidatedRequestGroup:
    """A submission that passed every semantic rule, with the defaults and spellings that will be stored."""

    proposal: Proposal
    name: str
    observation_type: ObservationType
    operator: Operator
    ipp_value: float
    requests: tuple[Request, ...]

    def submit(self, submitter: str, now: datetime) -> RequestGroup:
        """The new PENDING group (its ``RequestGroupSubmitted`` event recorded)."""
        return RequestGroup.submit(
            proposal=self.proposal.id,
            submitter=submitter,
            name=self.name,
            observation_type=self.observation_type,
            operator=self.operator,
            ipp_value=self.ipp_value,
            requests=list(self.requests),
            now=now,
        )


@frozen
class _Context:
    catalogue: Catalogue
    semesters: tuple[Semester, ...]
    actor: Actor
    now: datetime
    scheduled: bool
    largest_interval: LargestInterval | None
    visibility_errors: VisibilityErrors | None

    @property
    def observatory(self) -> Observatory:
        return self.catalogue.observatory

    @property
    def staff(self) -> bool:
        return self.actor.is_staff


def validate_request_group(
    submission: SubmittedRequestGroup,
    *,
    observatory: Observatory,
    semesters: Sequence[Semester],
    proposal: Proposal | None,
    actor: Actor,
    now: datetime,
    largest_interval: LargestInterval | None = None,
    visibility_errors: VisibilityErrors | None = None,
    ipp_bounds: tuple[float, float] = DEFAULT_IPP_BOUNDS,
    time_limit_check: Callable[[Proposal, tuple[Request, ...]], None] | None = None,
) -> ValidatedRequestGroup:
    """The submission checked against configdb, the semesters, the proposal and the caller (requests.md 3).

    ``proposal`` is the one ``submission.proposal`` names, or None when no such proposal exists.
    ``time_limit_check`` is the membership time limit rule (3.1 step 6), raising ValidationError when broken. Without
    ``largest_interval`` fill_window is left as submitted and no visibility check runs (callers that skip
    visibility, such as tests of the other rules). Raises ``ValidationError`` with the nested tree of 3.2.
    """
    context = _Context(
        Catalogue(observatory),
        tuple(semesters),
        actor,
        now,
        submission.observation_type.is_scheduled,
        largest_interval,
        visibility_errors,
    )
    errors: ErrorTree = {}
    if proposal is None:
        errors["proposal"] = [f'Invalid pk "{submission.proposal}" - object does not exist.']
    checked = [_check_request(request, context) for request in submission.requests]
    if not submission.requests:
        errors["requests"] = ["You must specify at least 1 request"]
    elif any(problems for _, problems in checked):
        errors["requests"] = [problems for _, problems in checked]
    if errors or proposal is None:
        raise ValidationError(errors)
    requests = tuple(request for request, _ in checked if request is not None)

    group_rules = (
        SubmitterMustBelongToProposal(proposal, actor),
        ProposalMustBeActive(proposal),
        IppValueMustBeInRange(submission.ipp_value, *ipp_bounds),
        SingleGroupMustHaveOneRequest(submission.operator, len(requests)),
        ManyGroupMustHaveSeveralRequests(submission.operator, len(requests)),
    )
    for rule in group_rules:  # the first broken one is the answer (3.1 level 3)
        check_rule(rule)
    if time_limit_check is not None:
        # 3.1 step 6 needs stored requests (the member's time used), so the caller supplies it; it runs here to
        # keep the order of the group rules in one place.
        time_limit_check(proposal, requests)
    check_rule(ScheduledGroupMustNotUseHourAngle(submission.observation_type, requests))
    return ValidatedRequestGroup(
        proposal, submission.name, submission.observation_type, submission.operator, submission.ipp_value, requests
    )


def validate_request(
    request: Request,
    *,
    observatory: Observatory,
    semesters: Sequence[Semester],
    actor: Actor,
    now: datetime,
    largest_interval: LargestInterval | None = None,
    visibility_errors: VisibilityErrors | None = None,
) -> Request:
    """A bare request of a scheduled type checked as each request of a submitted group is (levels 1 and 2), for the
    helpers that take one request rather than a group (``POST /api/airmass/``, requests.md 7.4); the request with
    its defaults, or ``ValidationError`` with the request's own error tree (not nested under ``requests``)."""
    context = _Context(Catalogue(observatory), tuple(semesters), actor, now, True, largest_interval, visibility_errors)
    checked, errors = _check_request(request, context)
    if checked is None:
        raise ValidationError(errors)
    return checked


# ---------------------------------------------------------------------------------------------------------
# Group rules (3.1 level 3): the first broken one is the answer


@frozen
class SubmitterMustBelongToProposal:
    """Staff are no exception (T20): they submit on proposals they are members of."""

    proposal: Proposal
    actor: Actor
    field: str = NON_FIELD

    def is_broken(self) -> bool:
        return self.proposal.role_of(self.actor.user_id) is None

    def message(self) -> str:
        return "You do not belong to the proposal you are trying to submit with"


@frozen
class ProposalMustBeActive:
    proposal: Proposal
    field: str = NON_FIELD

    def is_broken(self) -> bool:
        return not self.proposal.active

    def message(self) -> str:
        return "The proposal you are trying to submit with is currently inactive"


@frozen
class IppValueMustBeInRange:
    ipp_value: float
    minimum: float
    maximum: float
    field: str = NON_FIELD

    def is_broken(self) -> bool:
        return not self.minimum <= self.ipp_value <= self.maximum

    def message(self) -> str:
        return f"requestgroups ipp_value must be >= {self.minimum}, <= {self.maximum}"


@frozen
class SingleGroupMustHaveOneRequest:
    operator: Operator
    request_count: int
    field: str = NON_FIELD

    def is_broken(self) -> bool:
        return self.operator is Operator.SINGLE and self.request_count != 1

    def message(self) -> str:
        return "'Single' type requestgroups must have exactly one child request."


@frozen
class ManyGroupMustHaveSeveralRequests:
    operator: Operator
    request_count: int
    field: str = NON_FIELD

    def is_broken(self) -> bool:
        return self.operator is Operator.MANY and self.request_count < 2

    def message(self) -> str:
        return "'Many' type requestgroups must have more than one child request."


@frozen
class ScheduledGroupMustNotUseHourAngle:
    """HOUR_ANGLE targets are for DIRECT (and REAL_TIME) groups only; the scheduler cannot place them."""

    observation_type: ObservationType
    requests: tuple[Request, ...]
    field: str = NON_FIELD

    def is_broken(self) -> bool:
        if not self.observation_type.is_scheduled:
            return False
        targets = (c.target for r in self.requests for c in r.configurations)
        return any(target.type is TargetType.HOUR_ANGLE for target in targets)

    def message(self) -> str:
        return "HOUR_ANGLE Target type not supported in scheduled observations"


# ---------------------------------------------------------------------------------------------------------
# One request (3.6, 3.7)


def _check_request(request: Request, context: _Context) -> tuple[Request | None, ErrorTree]:
    """The validated request, or None and its error tree; field level first, then the request's own rules."""
    errors: ErrorTree = {}
    configurations: list[Configuration] = []
    configuration_errors: list[ErrorTree] = []
    for configuration in request.configurations:
        checked, problems = check_configuration(configuration, context.catalogue, context.staff)
        configurations.append(checked)
        configuration_errors.append(problems)
    if any(configuration_errors):
        errors["configurations"] = configuration_errors
    else:
        errors.update(_configuration_list_errors(configurations))

    if request.location is not None:
        location_errors = location_problems(request.location, context.observatory)
        if location_errors:
            errors["location"] = location_errors
    elif context.scheduled:
        errors["location"] = ["This field is required."]

    windows = [_started(window, context.now) for window in request.windows]
    window_errors = [window_problems(window, context.semesters, context.now) for window in windows]
    if any(window_errors):
        errors["windows"] = window_errors
    else:
        errors.update(_window_list_errors(windows, context))
    if errors:
        return None, errors

    messages = _availability_problems(configurations, request.location, context)
    messages += broken_messages(MosaicPatternMustBeKnown(request.extra_params.get("mosaic_pattern")))
    if messages:
        return None, {NON_FIELD: messages}

    validated = request.revised(
        configurations,
        windows=windows,
        acceptability_threshold=_acceptability_threshold(request, configurations, context),
    )
    return _after_visibility(validated, context)


def _configuration_list_errors(configurations: Sequence[Configuration]) -> ErrorTree:
    if not configurations:
        return {"configurations": ["You must specify at least 1 configuration"]}
    if sum(1 for c in configurations if c.fill_window) > 1:
        return {"configurations": ["Only one configuration can have `fill_window` set"]}
    return {}


def _window_list_errors(windows: Sequence[Window], context: _Context) -> ErrorTree:
    if not windows:
        return {"windows": ["You must specify at least 1 window"]} if context.scheduled else {}
    found = {_semester_of(window, context.semesters) for window in windows}
    if len(found) > 1:
        return {"windows": ["The observation windows must all be in the same semester"]}
    return {}


def _acceptability_threshold(request: Request, configurations: Sequence[Configuration], context: _Context) -> float:
    """The submitted threshold, else the highest default of the request's instrument types (2.4)."""
    if request.acceptability_threshold is not None:
        return request.acceptability_threshold
    defaults = [
        itype.default_acceptability_threshold
        for c in configurations
        if (itype := context.observatory.find_instrument_type(c.instrument_type)) is not None
    ]
    return max(defaults)


def _after_visibility(request: Request, context: _Context) -> tuple[Request | None, ErrorTree]:
    """fill_window and the visibility check (3.8), then the request's duration fixed; stored configurations
    never carry ``fill_window``."""
    largest_s = None
    if context.scheduled and context.largest_interval is not None:
        largest_s = context.largest_interval(request)
        if any(c.fill_window for c in request.configurations):
            filled = fill_window(request, largest_s, context.observatory)
            request = request.revised(filled)
    request = request.revised([evolve(c, fill_window=False) for c in request.configurations])
    request.duration = request_duration(request, context.observatory)
    if largest_s is not None and context.visibility_errors is not None:
        messages = list(context.visibility_errors(request, largest_s))
        if messages:
            return None, {NON_FIELD: messages}
    return request, {}


@frozen
class MosaicPatternMustBeKnown:
    pattern: object
    field: str = NON_FIELD

    def is_broken(self) -> bool:
        return self.pattern is not None and self.pattern not in MOSAIC_PATTERNS

    def message(self) -> str:
        return (
            f"Invalid mosaic pattern {self.pattern} set in the request extra_params, "
            f"choose from {', '.join(MOSAIC_PATTERNS)}"
        )


# ---------------------------------------------------------------------------------------------------------
# Instrument availability at the location (3.7 step 4)


def _availability_problems(
    configurations: Sequence[Configuration], location: Location | None, context: _Context
) -> list[str]:
    """Each configuration's instrument type must be offered at the location's telescopes. Without a location
    (DIRECT, REAL_TIME) the observation itself names the telescope, so nothing is checked here."""
    if location is None:
        return []
    unlocked = context.staff and location.is_fully_set
    offered = instrument_types_at(location, context.catalogue, include_unschedulable=unlocked)
    messages = []
    for code in dict.fromkeys(c.instrument_type for c in configurations):
        if code in offered:
            continue
        where = f"site={location.site or 'Any'}, enc={location.enclosure or 'Any'}, tel={location.telescope or 'Any'}"
        message = f"Invalid instrument type '{code}' at {where}. Valid instrument types at this location: "
        message += ", ".join(sorted(offered)) or "none"
        if context.staff and not location.is_fully_set:
            message += (
                ". Staff may request instruments that are not SCHEDULABLE by giving the site, enclosure and telescope."
            )
        messages.append(message)
    return messages


def instrument_types_at(location: Location, catalogue: Catalogue, include_unschedulable: bool) -> set[str]:
    """Codes of the instrument types offered by telescopes matching every part the location gives (exact
    matches: upstream's substring match is a fixed quirk)."""
    types = catalogue.observatory.instrument_types
    found = set()
    for placed in catalogue.offered_instruments(include_unschedulable):
        if (
            placed.telescope_class == location.telescope_class
            and location.site in ("", placed.site.code)
            and location.enclosure in ("", placed.enclosure.code)
            and location.telescope in ("", placed.telescope.code)
            and placed.instrument.instrument_type_id in types
        ):
            found.add(types[placed.instrument.instrument_type_id].code)
    return found


# ---------------------------------------------------------------------------------------------------------
# Location (2.5) and windows (2.6, 3.6)


def location_problems(location: Location, observatory: Observatory) -> ErrorTree:
    """Codes that exist nowhere (field errors), then the location's own rules (first broken one)."""
    errors: ErrorTree = {}
    classes = {telescope_class(t.aperture) for t in observatory.telescopes.values()}
    known = {
        "telescope_class": classes,
        "site": {s.code for s in observatory.sites.values()},
        "enclosure": {e.code for e in observatory.enclosures.values()},
        "telescope": {t.code for t in observatory.telescopes.values()},
    }
    for name, codes in known.items():
        value = getattr(location, name)
        if value and value not in codes:
            errors[name] = [f'"{value}" is not a valid choice.']
    if errors:
        return errors
    rules = (
        EnclosureNeedsSite(location),
        TelescopeNeedsEnclosure(location),
        LocationMustExist(location, observatory),
    )
    broken = next((rule for rule in rules if rule.is_broken()), None)
    return {NON_FIELD: [broken.message()]} if broken is not None else {}


@frozen
class EnclosureNeedsSite:
    location: Location

    def is_broken(self) -> bool:
        return bool(self.location.enclosure) and not self.location.site

    def message(self) -> str:
        return "Must specify a site with an enclosure."


@frozen
class TelescopeNeedsEnclosure:
    location: Location

    def is_broken(self) -> bool:
        return bool(self.location.telescope) and not self.location.enclosure

    def message(self) -> str:
        return "Must specify an enclosure with a telescope."


@frozen
class LocationMustExist:
    """The given site, enclosure and telescope codes exist, but must also be one another's parents."""

    location: Location
    observatory: Observatory

    def problem(self) -> str:
        obs, loc = self.observatory, self.location
        site = obs.find_site(loc.site)
        if site is None or not loc.enclosure:
            return ""  # an unknown site is a field error, reported before this rule runs
        enclosure = obs.find_enclosure(loc.site, loc.enclosure)
        if enclosure is None:
            choices = ", ".join(e.code for e in obs.enclosures_of(site.id))
            return f"Enclosure {loc.enclosure} not valid. Valid choices: {choices}"
        if loc.telescope and obs.find_telescope(loc.site, loc.enclosure, loc.telescope) is None:
            choices = ", ".join(t.code for t in obs.telescopes_of(enclosure.id))
            return f"Telescope {loc.telescope} not valid. Valid choices: {choices}"
        return ""

    def is_broken(self) -> bool:
        return bool(self.problem())

    def message(self) -> str:
        return self.problem()


def _started(window: Window, now: datetime) -> Window:
    return Window(now, window.end) if window.start == START_NOT_GIVEN else window


def window_problems(window: Window, semesters: Sequence[Semester], now: datetime) -> ErrorTree:
    """The end must be in the future (field); then the window must be ordered and fit one semester."""
    if window.end < now:
        return {"end": ["Window end time must be in the future"]}
    ordered = WindowMustEndAfterItStarts(window)
    if ordered.is_broken():
        return {NON_FIELD: [ordered.message()]}
    fits = WindowMustFallInSemester(window, semesters)
    if fits.is_broken():
        return {NON_FIELD: [fits.message()]}
    return {}


@frozen
class WindowMustEndAfterItStarts:
    window: Window

    def is_broken(self) -> bool:
        return self.window.end <= self.window.start

    def message(self) -> str:
        end, start = _iso(self.window.end), _iso(self.window.start)
        return f"Window end '{end}' cannot be earlier than window start '{start}'"


@frozen
class WindowMustFallInSemester:
    window: Window
    semesters: Sequence[Semester]

    def is_broken(self) -> bool:
        return _semester_of(self.window, self.semesters) is None

    def message(self) -> str:
        return "The observation window does not fit within any defined semester."


def _semester_of(window: Window, semesters: Sequence[Semester]) -> str | None:
    return next((s.id for s in semesters if s.covers(window.start, window.end)), None)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

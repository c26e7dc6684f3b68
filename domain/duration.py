"""How long a request occupies a telescope: the duration algorithm of requests.md section 4, pure arithmetic.

Every overhead comes from the observatory (observatory.md 1.6) through ``InstrumentTypeOverheads``: the
instrument type's own numbers, its modes, the element change overheads of the optical element groups on its
instruments, its configuration types, and the telescope-level numbers of the **first telescope in canonical
order hosting the type** (a faithful upstream quirk, 4.1).

Decisions where the spec leaves room:

* Modes are resolved as validation resolves them (3.5): a named mode is matched case-insensitively; an empty
  or unknown readout mode falls back to the group's only mode, else its default (4.1); an empty acquisition or
  guiding mode likewise, else ``OFF``; a configuration type with ``force_acquisition_off`` has no acquisition.
  A validated, stored request names every mode, so this only matters for unvalidated payloads.
* The element change overhead of a group type is the largest among the groups of that type on any camera of
  any instrument of the type, in any state (upstream keeps whichever it met last; the demo has one value per
  type). An unknown group type costs 0, as the spec says.
* Slews between ICRS targets use the angular distance of their catalogue positions (Vincenty's formula).
  Proper motion and parallax are ignored: they move a target by arcseconds, and a slew costs
  ``distance x rate`` clamped to [min, max] (demo rates make one degree cost 0.1 s), so the error is far below
  the clamp. When they are added, the positions are taken at the request's earliest window start (4.2 step 4.4).
* Per-type sums keep the order of first use and the padding share is computed as upstream computes it
  (``d / total * ofp``), so rounding agrees with upstream on the reference cases; the final ``ceil`` has no
  tolerance, as upstream's has none.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence

from attrs import evolve, frozen

from domain.errors import DomainError, ValidationError
from domain.observatory import Observatory
from domain.proposals import Semester
from domain.requestgroups import (
    OFF,
    Configuration,
    InstrumentConfig,
    Operator,
    Request,
    Target,
)

# Operators only the duration code knows (4.3): AND sums rounded durations, ONEOF takes their maximum.
LEGACY_AND = "AND"
LEGACY_ONEOF = "ONEOF"


# ---------------------------------------------------------------------------------------------------------
# Overheads of one instrument type, read once from the observatory


@frozen
class ModeOverheads:
    """One mode group of an instrument type: overhead per mode code (configdb spelling) and the default."""

    overheads: Mapping[str, float]
    default: str = ""

    def find(self, code: str) -> str | None:
        """The configdb spelling of a mode code given in any case, or None when the group lacks it."""
        wanted = code.casefold()
        return next((known for known in self.overheads if known.casefold() == wanted), None)

    def fallback(self) -> str | None:
        """The mode used when none is named: the only mode, else the default, else none (3.5)."""
        if len(self.overheads) == 1:
            return next(iter(self.overheads))
        return self.default or None


NO_MODES = ModeOverheads({})


@frozen
class InstrumentTypeOverheads:
    """Every number the duration of a configuration on one instrument type needs (4.1), in seconds."""

    code: str
    fixed_overhead_per_exposure: float
    config_front_padding: float
    observation_front_padding: float
    acquire_exposure_time: float
    readout: ModeOverheads
    acquisition: ModeOverheads
    guiding: ModeOverheads
    element_change_overheads: Mapping[str, float]  # group type, plural ("filters") -> seconds
    config_change_overheads: Mapping[str, float]  # configuration type code -> seconds
    forced_acquisition_off: frozenset[str]  # configuration type codes with force_acquisition_off
    instrument_change_overhead: float
    minimum_slew_overhead: float
    maximum_slew_overhead: float
    slew_rate: float  # seconds per arcsecond

    @classmethod
    def of(cls, observatory: Observatory, instrument_type: str) -> InstrumentTypeOverheads:
        """Read the overheads of an instrument type (code in any case) from the observatory."""
        itype = observatory.find_instrument_type(instrument_type)
        if itype is None:
            raise ValidationError.on("instrument_type", f"Invalid instrument type {instrument_type}")
        groups: dict[str, ModeOverheads] = {}
        for group in observatory.mode_groups_of(itype.id):
            modes = {mode.code: mode.overhead for mode in observatory.modes_of(group.id)}
            groups[group.type] = ModeOverheads(modes, group.default)
        element_changes: dict[str, float] = {}
        for instrument in observatory.instruments.values():
            if instrument.instrument_type_id != itype.id:
                continue
            for camera_id in instrument.science_camera_ids:
                camera = observatory.cameras.get(camera_id)
                for group_id in camera.optical_element_group_ids if camera else ():
                    oe_group = observatory.optical_element_groups[group_id]
                    previous = element_changes.get(oe_group.type, 0.0)
                    element_changes[oe_group.type] = max(previous, oe_group.element_change_overhead)
        config_types = observatory.configuration_types_of(itype.id)
        # No hosting telescope (a type not installed anywhere) costs nothing at telescope level.
        telescope = observatory.first_telescope_hosting(itype.id)
        return cls(
            code=itype.code,
            fixed_overhead_per_exposure=itype.fixed_overhead_per_exposure,
            config_front_padding=itype.config_front_padding,
            observation_front_padding=itype.observation_front_padding,
            acquire_exposure_time=itype.acquire_exposure_time,
            readout=groups.get("readout", NO_MODES),
            acquisition=groups.get("acquisition", NO_MODES),
            guiding=groups.get("guiding", NO_MODES),
            element_change_overheads=element_changes,
            config_change_overheads={row.configuration_type: row.config_change_overhead for row in config_types},
            forced_acquisition_off=frozenset(
                row.configuration_type for row in config_types if row.force_acquisition_off
            ),
            instrument_change_overhead=telescope.instrument_change_overhead if telescope else 0.0,
            minimum_slew_overhead=telescope.minimum_slew_overhead if telescope else 0.0,
            maximum_slew_overhead=telescope.maximum_slew_overhead if telescope else 0.0,
            slew_rate=telescope.slew_rate if telescope else 0.0,
        )

    def readout_overhead(self, mode: str) -> float:
        """Readout seconds of a named mode; the group's only or default mode when it is empty or unknown."""
        known = self.readout.find(mode) if mode else None
        chosen = known or self.readout.fallback()
        if chosen is None:
            if not self.readout.overheads:
                return 0.0
            choices = ", ".join(self.readout.overheads)
            raise ValidationError.on("mode", f"Must set a readout mode, choose from {choices}")
        return self.readout.overheads[chosen]

    def config_change_overhead(self, configuration_type: str) -> float:
        return self.config_change_overheads.get(configuration_type.upper(), 0.0)

    def acquisition_mode(self, configuration: Configuration) -> str:
        """The acquisition mode that will run: forced OFF, named, or the group's fallback, else OFF."""
        if configuration.type.upper() in self.forced_acquisition_off:
            return OFF
        mode = configuration.acquisition_config.mode
        return mode if mode else (self.acquisition.fallback() or OFF)

    def guiding_mode(self, configuration: Configuration) -> str:
        """The guiding mode that will run: named, or the group's fallback, else OFF."""
        mode = configuration.guiding_config.mode
        return mode if mode else (self.guiding.fallback() or OFF)


Overheads = Callable[[str], InstrumentTypeOverheads]


def overheads_from(observatory: Observatory) -> Overheads:
    """A lookup of instrument type overheads that reads each type from the observatory once."""
    cache: dict[str, InstrumentTypeOverheads] = {}

    def lookup(instrument_type: str) -> InstrumentTypeOverheads:
        key = instrument_type.casefold()
        if key not in cache:
            cache[key] = InstrumentTypeOverheads.of(observatory, instrument_type)
        return cache[key]

    return lookup


# ---------------------------------------------------------------------------------------------------------
# Steps 1-3: exposures, instrument configs, configuration base


def exposure_duration(instrument_config: InstrumentConfig, overheads: InstrumentTypeOverheads) -> float:
    """Step 1: exposure time + readout of its mode + the type's fixed overhead per exposure."""
    per_exposure_overhead = overheads.readout_overhead(instrument_config.mode) + overheads.fixed_overhead_per_exposure
    return instrument_config.exposure_time + per_exposure_overhead


def instrument_config_duration(instrument_config: InstrumentConfig, overheads: InstrumentTypeOverheads) -> float:
    """Step 2: every exposure of the instrument config."""
    return instrument_config.exposure_count * exposure_duration(instrument_config, overheads)


def configuration_duration(configuration: Configuration, overheads: InstrumentTypeOverheads) -> float:
    """Step 3: ``repeat_duration`` for a repeat type that has one, else Σ instrument configs + config padding."""
    if configuration.is_repeat and configuration.repeat_duration is not None:
        return configuration.repeat_duration
    total = sum(instrument_config_duration(ic, overheads) for ic in configuration.instrument_configs)
    return total + overheads.config_front_padding


def rapid_response_charge_cap(configuration: Configuration, configurations: int, observatory: Observatory) -> float:
    """The most a rapid-response configuration is charged (5.4): its step-3 base plus its share of the observation
    front padding, seconds."""
    table = overheads_from(observatory)(configuration.instrument_type)
    return configuration_duration(configuration, table) + table.observation_front_padding / max(configurations, 1)


# ---------------------------------------------------------------------------------------------------------
# Step 4: the sequence walk


def angular_distance_deg(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    """Great-circle distance in degrees between two (ra, dec) positions in degrees (Vincenty; exact at 0 and 180)."""
    phi1, phi2 = math.radians(dec1), math.radians(dec2)
    delta = math.radians(ra2 - ra1)
    across = math.cos(phi2) * math.sin(delta)
    along = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(delta)
    towards = math.sin(phi1) * math.sin(phi2) + math.cos(phi1) * math.cos(phi2) * math.cos(delta)
    return math.degrees(math.atan2(math.hypot(across, along), towards))


def slew_overhead(previous: Target | None, target: Target, overheads: InstrumentTypeOverheads) -> float:
    """Step 4.4: the maximum for the first configuration or a non-sidereal pair, 0 for the same target,
    otherwise distance x rate clamped to [minimum, maximum]."""
    here, there = _position(previous), _position(target)
    if here is None or there is None:
        return overheads.maximum_slew_overhead
    if previous == target:
        return 0.0
    distance_arcsec = angular_distance_deg(*here, *there) * 3600
    return min(
        max(distance_arcsec * overheads.slew_rate, overheads.minimum_slew_overhead),
        overheads.maximum_slew_overhead,
    )


def _position(target: Target | None) -> tuple[float, float] | None:
    """(ra, dec) of a sidereal target. An ICRS target without coordinates cannot have passed validation; it is
    charged the maximum like any target whose position is not known in advance."""
    if target is None or not target.is_sidereal or target.ra is None or target.dec is None:
        return None
    return target.ra, target.dec


def optical_element_change_overhead(
    elements: Mapping[str, str], previous: Mapping[str, str], overheads: InstrumentTypeOverheads
) -> float:
    """Step 4.3 for one instrument config: the largest change overhead among the element types that changed."""
    changed = [key for key, value in elements.items() if key not in previous or previous[key] != value]
    return max((overheads.element_change_overheads.get(f"{key}s", 0.0) for key in changed), default=0.0)


def acquisition_overhead(configuration: Configuration, overheads: InstrumentTypeOverheads) -> float:
    """Step 4.5: the mode's overhead plus the acquisition exposure (the request's, else the type's default)."""
    mode = overheads.acquisition_mode(configuration)
    known = overheads.acquisition.find(mode) if mode.upper() != OFF else None
    if known is None:
        return 0.0
    exposure = configuration.acquisition_config.exposure_time
    return overheads.acquisition.overheads[known] + (exposure if exposure else overheads.acquire_exposure_time)


def guiding_overhead(configuration: Configuration, overheads: InstrumentTypeOverheads) -> float:
    """Step 4.6: the guiding mode's overhead, charged only when guiding is not optional."""
    mode = overheads.guiding_mode(configuration)
    if mode.upper() == OFF or configuration.guiding_config.optional:
        return 0.0
    known = overheads.guiding.find(mode)
    return overheads.guiding.overheads[known] if known is not None else 0.0


def sequence_durations(configurations: Sequence[Configuration], overheads: Overheads) -> dict[str, float]:
    """Steps 1-4: one pass over the configurations in priority order, costs summed per instrument type.

    Keys are instrument type codes as configdb spells them, in order of first use.
    """
    sums: dict[str, float] = {}
    previous: Configuration | None = None
    previous_elements: Mapping[str, str] = {}
    for configuration in sorted(configurations, key=lambda c: c.priority):
        table = overheads(configuration.instrument_type)
        cost = configuration_duration(configuration, table)
        if previous is None or overheads(previous.instrument_type).code != table.code:
            cost += table.instrument_change_overhead
        for instrument_config in configuration.instrument_configs:
            cost += optical_element_change_overhead(instrument_config.optical_elements, previous_elements, table)
            previous_elements = instrument_config.optical_elements
        cost += slew_overhead(previous.target if previous else None, configuration.target, table)
        cost += acquisition_overhead(configuration, table)
        cost += guiding_overhead(configuration, table)
        if previous is None or previous.type.upper() != configuration.type.upper():
            cost += table.config_change_overhead(configuration.type)
        sums[table.code] = sums.get(table.code, 0.0) + cost
        previous = configuration
    return sums


# ---------------------------------------------------------------------------------------------------------
# Steps 5-7: repeats, observation front padding, rounding


def durations_by_instrument_type(
    configurations: Sequence[Configuration], configuration_repeats: int, overheads: Overheads
) -> dict[str, float]:
    """Steps 1-6, unrounded, per instrument type: the values allocation keys are charged with (4.3)."""
    sums = {code: cost * configuration_repeats for code, cost in sequence_durations(configurations, overheads).items()}
    total = 0.0
    for cost in sums.values():
        total += cost
    for code in sums:
        share = sums[code] / total if total else 1 / len(sums)
        sums[code] += share * overheads(code).observation_front_padding
    return sums


def request_durations_by_instrument_type(request: Request, observatory: Observatory) -> dict[str, float]:
    """The request's unrounded duration per instrument type, seconds."""
    return durations_by_instrument_type(
        request.configurations, request.configuration_repeats, overheads_from(observatory)
    )


def total_duration(by_instrument_type: Mapping[str, float]) -> int:
    """Step 7: the request duration is the sum over instrument types, rounded up to whole seconds."""
    total = 0.0
    for seconds in by_instrument_type.values():
        total += seconds
    return math.ceil(total)


def request_duration(request: Request, observatory: Observatory) -> int:
    """The request's duration in whole seconds (4.2)."""
    return total_duration(request_durations_by_instrument_type(request, observatory))


# ---------------------------------------------------------------------------------------------------------
# fill_window (3.8 step 5)


def fill_window(request: Request, largest_interval_s: float, observatory: Observatory) -> list[Configuration]:
    """The request's configurations with the ``fill_window`` repeat configuration stretched to the largest
    visible interval: ``repeat_duration := largest - d + repeat_duration - 1`` with ``d`` the rounded duration.

    ``fill_window`` on a non-repeat type is ignored (faithful quirk); so is a request without one. Validation
    allows at most one such configuration; if there are more, each is filled in turn.
    """
    configurations = list(request.configurations)
    overheads = overheads_from(observatory)
    for index, configuration in enumerate(configurations):
        if not (configuration.fill_window and configuration.is_repeat and configuration.repeat_duration is not None):
            continue
        current = total_duration(durations_by_instrument_type(configurations, request.configuration_repeats, overheads))
        stretched = largest_interval_s - current + configuration.repeat_duration - 1
        configurations[index] = evolve(configuration, repeat_duration=stretched)
    return configurations


# ---------------------------------------------------------------------------------------------------------
# The validate endpoint's numbers (4.4)


@frozen
class InstrumentConfigDuration:
    duration: float


@frozen
class ConfigurationDuration:
    duration: float
    instrument_configs: tuple[InstrumentConfigDuration, ...]


@frozen
class RequestDurationReport:
    duration: int
    configurations: tuple[ConfigurationDuration, ...]
    largest_interval: float


@frozen
class RequestDurations:
    """``request_durations`` of ``POST /api/requestgroups/validate/``; field names are the JSON keys."""

    duration: int
    requests: tuple[RequestDurationReport, ...]


def request_duration_report(
    request: Request, largest_interval_s: float, observatory: Observatory
) -> RequestDurationReport:
    """One request's numbers: its duration, each configuration's base (step 3) and instrument configs (step 2)."""
    overheads = overheads_from(observatory)
    configurations = []
    for configuration in request.configurations:
        table = overheads(configuration.instrument_type)
        configs = tuple(
            InstrumentConfigDuration(instrument_config_duration(ic, table)) for ic in configuration.instrument_configs
        )
        configurations.append(ConfigurationDuration(configuration_duration(configuration, table), configs))
    by_type = durations_by_instrument_type(request.configurations, request.configuration_repeats, overheads)
    return RequestDurationReport(total_duration(by_type), tuple(configurations), largest_interval_s)


def request_durations(
    requests: Sequence[Request], largest_intervals_s: Sequence[float], observatory: Observatory
) -> RequestDurations:
    """The validate endpoint's ``request_durations``; ``largest_intervals_s`` aligns with ``requests`` and
    comes from the visibility port (not clipped to now)."""
    if len(requests) != len(largest_intervals_s):
        raise DomainError("One largest interval is needed per request")
    reports = tuple(
        request_duration_report(r, interval, observatory)
        for r, interval in zip(requests, largest_intervals_s, strict=True)
    )
    return RequestDurations(sum(report.duration for report in reports), reports)


# ---------------------------------------------------------------------------------------------------------
# Group totals and allocation keys (4.3)


@frozen
class AllocationKey:
    """Where a request's time is charged: a semester and an instrument type."""

    semester: str
    instrument_type: str


def semester_of(request: Request, semesters: Iterable[Semester]) -> Semester:
    """The semester holding all of the request's windows (earliest start to latest end)."""
    start, end = request.earliest_window_start, request.latest_window_end
    if start is None or end is None:
        raise DomainError("A request without windows has no allocation key")
    found = next((s for s in semesters if s.covers(start, end)), None)
    if found is None:
        raise ValidationError.general("The observation window does not fit within any defined semester.")
    return found


def request_durations_by_key(
    request: Request, observatory: Observatory, semesters: Iterable[Semester]
) -> dict[AllocationKey, float]:
    """The request's unrounded duration per allocation key."""
    semester = semester_of(request, semesters).id
    by_type = request_durations_by_instrument_type(request, observatory)
    return {AllocationKey(semester, code): seconds for code, seconds in by_type.items()}


def summed_durations_by_key(
    requests: Iterable[Request], observatory: Observatory, semesters: Iterable[Semester]
) -> dict[AllocationKey, float]:
    """Σ over requests per key, unrounded: the SINGLE time check, membership limits, IPP and max_allowable_ipp."""
    semesters = list(semesters)
    totals: dict[AllocationKey, float] = {}
    for request in requests:
        for key, seconds in request_durations_by_key(request, observatory, semesters).items():
            totals[key] = totals.get(key, 0.0) + seconds
    return totals


def time_check_durations_by_key(
    requests: Iterable[Request], operator: Operator | str, observatory: Observatory, semesters: Iterable[Semester]
) -> dict[AllocationKey, float]:
    """What the allocation check compares with the time left (4.3): SINGLE the unrounded sum; MANY (and legacy
    ONEOF) the largest rounded per-key duration of any one request; legacy AND the sum of rounded ones."""
    semesters = list(semesters)
    if operator == Operator.SINGLE:
        return summed_durations_by_key(requests, observatory, semesters)
    if operator not in (Operator.MANY, LEGACY_ONEOF, LEGACY_AND):
        raise DomainError(f"Unknown request group operator {operator}")
    rounded: dict[AllocationKey, list[int]] = {}
    for request in requests:
        for key, seconds in request_durations_by_key(request, observatory, semesters).items():
            rounded.setdefault(key, []).append(math.ceil(seconds))
    combine = sum if operator == LEGACY_AND else max
    return {key: float(combine(values)) for key, values in rounded.items()}

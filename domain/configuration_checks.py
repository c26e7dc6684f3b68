"""Semantic checks of one configuration against the configuration database (requests.md 3.3, 3.4 and 3.5).

The edge has already checked the shape (types, plain ranges, enum values); what is left needs configdb: is the
instrument type offered, which configuration types, modes and optical elements it has, what its validation
schemas demand. ``check_configuration`` runs the steps of 3.4 in the spec's order, fills the defaults they
imply (modes, ``bin_x``/``bin_y``, rotator mode, acquisition forced off, ``dither_pattern``), rewrites codes to
configdb's spelling, and returns the configuration with the error tree of 3.2 (``{}`` when it is clean).

Decisions where the spec leaves room:

* Everything found at one level is reported together (upstream stops at the first message; clients match key
  phrases, so more of them costs nothing), but a step whose input an earlier step refused is skipped: an unknown
  instrument type stops the configuration there, and an unknown configuration type has no properties, so its
  schema is not applied and optical elements stay required.
* "Offered" honours the ``active`` flags of site, enclosure and telescope for staff too (observatory.md 1.5
  combines them with AND whatever the caller); staff may use any non-DISABLED instrument, non-schedulable
  modes, optical elements and configuration types (observatory.md 1.3, 1.7).
* An empty acquisition or guiding mode that configdb cannot fill becomes ``OFF``; stored requests name every
  mode, so durations never depend on a later change of defaults.
* ``extra_params`` coercion (2.13) is applied here as well as at the edge: it is idempotent, and it keeps the
  domain honest for configurations built by other code (cadence, mosaic, dither expansions).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from attrs import evolve, field, frozen

from domain.duration import InstrumentTypeOverheads, instrument_config_duration
from domain.errors import NON_FIELD, ErrorTree, merge_errors
from domain.instrument_catalogue import Catalogue, InstrumentTypeCapabilities, ModeGroup
from domain.observatory import CameraType, ConfigurationTypeProperties, JsonDict, Observatory
from domain.request_documents import (
    coerce_extra_params,
    describe_schema_errors,
    document,
    merge_document,
    replace,
    schema_error_tree,
)
from domain.requestgroups import (
    OFF,
    AcquisitionConfig,
    Configuration,
    GuidingConfig,
    InstrumentConfig,
    RegionOfInterest,
    Target,
    TargetType,
    is_repeat_type,
    required_target_fields,
)
from domain.validation_schema import validate

REQUIRED = "This field is required."
DITHER_PATTERNS = ("line", "grid", "spiral", "custom")
CUSTOM_DITHER = "custom"
MAX_ECCENTRICITY = 0.9

T = TypeVar("T")


def coerced(configuration: Configuration) -> Configuration:
    """The configuration with the extra_params that 2.13 names coerced (not those of constraints)."""
    configuration = evolve(
        configuration,
        extra_params=coerce_extra_params(configuration.extra_params),
        target=evolve(configuration.target, extra_params=coerce_extra_params(configuration.target.extra_params)),
        acquisition_config=evolve(
            configuration.acquisition_config,
            extra_params=coerce_extra_params(configuration.acquisition_config.extra_params),
        ),
        guiding_config=evolve(
            configuration.guiding_config,
            extra_params=coerce_extra_params(configuration.guiding_config.extra_params),
        ),
    )
    instrument_configs = [
        evolve(ic, extra_params=coerce_extra_params(ic.extra_params)) for ic in configuration.instrument_configs
    ]
    return replace(configuration, instrument_configs=tuple(instrument_configs))


# ---------------------------------------------------------------------------------------------------------
# Target (3.3)


@frozen
class TargetMustCarryTheFieldsOfItsType:
    """2.9's table: each field the type (and orbital scheme) needs is present; 0 counts, None and "" do not."""

    target: Target

    def missing(self) -> list[str]:
        needed = required_target_fields(self.target.type, self.target.scheme)
        return [name for name in needed if getattr(self.target, name) in (None, "")]

    def is_broken(self) -> bool:
        return bool(self.missing())

    def message(self) -> str:
        return REQUIRED


@frozen
class EccentricityMustSuitTheScheme:
    """Only comet schemes take orbits with eccentricity above 0.9 (2.9)."""

    target: Target
    field: str = "scheme"

    def is_broken(self) -> bool:
        target = self.target
        return (
            target.type is TargetType.ORBITAL_ELEMENTS
            and target.scheme is not None
            and "COMET" not in target.scheme
            and target.eccentricity is not None
            and target.eccentricity > MAX_ECCENTRICITY
        )

    def message(self) -> str:
        return (
            f"ORBITAL_ELEMENTS pointing of scheme {self.target.scheme} requires eccentricity to be lower than "
            f"{MAX_ECCENTRICITY}. Submit with scheme MPC_COMET to use your eccentricity."
        )


def target_errors(target: Target) -> ErrorTree:
    """The target's field errors, then (only when those are clean) its own rule; ``{}`` when clean."""
    fields = TargetMustCarryTheFieldsOfItsType(target)
    if fields.is_broken():
        return {name: [fields.message()] for name in fields.missing()}
    eccentricity = EccentricityMustSuitTheScheme(target)
    if eccentricity.is_broken():
        return {eccentricity.field: [eccentricity.message()]}
    return {}


# ---------------------------------------------------------------------------------------------------------
# The mode rule (3.5)


@frozen
class ModeChoice:
    """The outcome of the mode rule: the mode in configdb's spelling ("" when the group has none) and its
    schema, or the problem that refused the value."""

    code: str = ""
    schema: JsonDict = field(factory=dict)
    problem: str = ""


def choose_mode(kind: str, given: str, group: ModeGroup | None, instrument_type: str, staff: bool) -> ModeChoice:
    """Apply 3.5 to one value: fill an empty one from the group, match a given one case-insensitively."""
    modes = group.modes if group else ()
    if not given:
        if len(modes) == 1:
            return ModeChoice(modes[0].code, modes[0].validation_schema)
        default = next((m for m in modes if group is not None and m.code == group.default), None)
        if default is not None:
            return ModeChoice(default.code, default.validation_schema)
        if modes:
            choices = ", ".join(m.code for m in modes)
            return ModeChoice(problem=f"Must set a {kind} mode, choose from {choices}")
        return ModeChoice()
    usable = [m for m in modes if m.schedulable or staff]
    match = next((m for m in usable if m.code.casefold() == given.casefold()), None)
    if match is not None:
        return ModeChoice(match.code, match.validation_schema)
    if kind in ("acquisition", "guiding") and given.upper() == OFF:
        return ModeChoice(OFF)  # accepted even when the group does not list it (faithful, observatory.md 1.7)
    refusal = f"{kind.capitalize()} mode {given} is not available for instrument type {instrument_type}"
    return ModeChoice(problem=refusal)


def apply_mode(
    owner: T,
    kind: str,
    given: str,
    capabilities: InstrumentTypeCapabilities,
    staff: bool,
    setter: Callable[[T, str], T],
) -> tuple[T, list[str]]:
    """Choose the mode for ``owner`` (a config object), store it with ``setter`` and apply the mode's schema."""
    choice = choose_mode(kind, given, capabilities.mode_groups.get(kind), capabilities.code, staff)
    if choice.problem:
        return owner, [choice.problem]
    owner = setter(owner, choice.code)
    if not choice.schema:
        return owner, []
    normalised, errors = validate(document(owner), choice.schema)
    if errors:
        details = describe_schema_errors(errors)
        return owner, [f"{kind.capitalize()} mode {choice.code} requirements are not met: {details}"]
    return merge_document(owner, normalised), []


def _set_guiding(config: GuidingConfig, code: str) -> GuidingConfig:
    return evolve(config, mode=code or OFF)


def _set_acquisition(config: AcquisitionConfig, code: str) -> AcquisitionConfig:
    return evolve(config, mode=code or OFF)


def _set_readout(config: InstrumentConfig, code: str) -> InstrumentConfig:
    return evolve(config, mode=code)


def _set_rotator(config: InstrumentConfig, code: str) -> InstrumentConfig:
    return evolve(config, rotator_mode=code)


def _set_exposure(config: InstrumentConfig, code: str) -> InstrumentConfig:
    if not code:
        return config
    return evolve(config, extra_params={**config.extra_params, "exposure_mode": code})


# ---------------------------------------------------------------------------------------------------------
# Instrument configs (3.4 step 9)


def check_optical_elements(
    instrument_config: InstrumentConfig, capabilities: InstrumentTypeCapabilities, staff: bool, required: bool
) -> tuple[InstrumentConfig, list[str]]:
    """Each named element exists on the type (rewritten to configdb's spelling); every group type is named
    unless the configuration type does not require optical elements."""
    messages: list[str] = []
    canonical: dict[str, str] = {}
    code = capabilities.code
    for key, value in instrument_config.optical_elements.items():
        group_elements = capabilities.optical_elements.get(f"{key}s")
        if group_elements is None:
            messages.append(f"optical_element of type {key} is not available on {code} instruments")
            canonical[key] = value
            continue
        usable = [e for e in group_elements if e.schedulable or staff]
        match = next((e for e in usable if e.code.casefold() == str(value).casefold()), None)
        if match is None:
            messages.append(f"optical element {value} of type {key} is not available")
            canonical[key] = value
        else:
            canonical[key] = match.code
    if required:
        for group_type in capabilities.optical_elements:
            singular = group_type.removesuffix("s")
            if singular not in instrument_config.optical_elements:
                messages.append(f"Must set optical element of type {singular} for instrument type {code}")
    return evolve(instrument_config, optical_elements=canonical), messages


@frozen
class RegionsOfInterestMustFitTheDetector:
    """3.4 step 9's ROI rules, reported in order: count, a bound each, start before end, inside the chip."""

    rois: tuple[RegionOfInterest, ...]
    instrument_type: str
    camera_type: CameraType | None

    def filled(self) -> tuple[RegionOfInterest, ...]:
        """The regions with the detector's extent in the bounds left out (2.8)."""
        width = self.camera_type.pixels_x if self.camera_type else 0
        height = self.camera_type.pixels_y if self.camera_type else 0
        return tuple(
            RegionOfInterest(
                0 if roi.x1 is None else roi.x1,
                width if roi.x2 is None else roi.x2,
                0 if roi.y1 is None else roi.y1,
                height if roi.y2 is None else roi.y2,
            )
            for roi in self.rois
        )

    def messages(self) -> list[str]:
        if not self.rois:
            return []
        max_rois = self.camera_type.max_rois if self.camera_type else 0
        if len(self.rois) > max_rois:
            return [f"Instrument type {self.instrument_type} supports up to {max_rois} regions of interest"]
        found: list[str] = []
        width = self.camera_type.pixels_x if self.camera_type else 0
        height = self.camera_type.pixels_y if self.camera_type else 0
        for given, roi in zip(self.rois, self.filled(), strict=True):
            if all(bound is None for bound in (given.x1, given.x2, given.y1, given.y2)):
                found.append("Must submit at least one bound for a region of interest")
            elif not (_int(roi.x1) < _int(roi.x2) and _int(roi.y1) < _int(roi.y2)):
                found.append("Region of interest pixels start must be less than pixels end")
            elif _int(roi.x1) < 0 or _int(roi.y1) < 0 or _int(roi.x2) > width or _int(roi.y2) > height:
                found.append(
                    f"Regions of interest for instrument type {self.instrument_type} must be in range "
                    f"0<=x<={width} and 0<=y<={height}"
                )
        return list(dict.fromkeys(found))


def _int(value: int | None) -> int:
    return 0 if value is None else value


def check_instrument_config(
    instrument_config: InstrumentConfig, capabilities: InstrumentTypeCapabilities, staff: bool, required: bool
) -> tuple[InstrumentConfig, list[str]]:
    """Readout, rotator and exposure modes, optical elements and regions of interest of one instrument config."""
    ic, messages = apply_mode(instrument_config, "readout", instrument_config.mode, capabilities, staff, _set_readout)
    if "rotator" in capabilities.mode_groups:
        ic, found = apply_mode(ic, "rotator", ic.rotator_mode, capabilities, staff, _set_rotator)
        messages += found
    if "exposure" in capabilities.mode_groups:
        given = str(ic.extra_params.get("exposure_mode") or "")
        ic, found = apply_mode(ic, "exposure", given, capabilities, staff, _set_exposure)
        messages += found
    ic, found = check_optical_elements(ic, capabilities, staff, required)
    messages += found
    rois = RegionsOfInterestMustFitTheDetector(ic.rois, capabilities.code, capabilities.camera_type)
    messages += rois.messages()
    return replace(ic, rois=rois.filled()), messages


# ---------------------------------------------------------------------------------------------------------
# Configuration rules (3.4 steps 5, 10-12)


@frozen
class ConfigurationTypeMustBeOffered:
    configuration_type: str
    properties: ConfigurationTypeProperties | None
    instrument_type: str

    def is_broken(self) -> bool:
        return self.properties is None

    def message(self) -> str:
        return f"configuration type {self.configuration_type} is not valid for instrument type {self.instrument_type}"


@frozen
class ConfigurationTypeMustBeSchedulable:
    """Non-schedulable configuration types (BIAS, DARK, ...) are for staff only (observatory.md 1.3)."""

    configuration_type: str
    properties: ConfigurationTypeProperties | None
    instrument_type: str
    staff: bool

    def is_broken(self) -> bool:
        return self.properties is not None and not self.properties.schedulable and not self.staff

    def message(self) -> str:
        return (
            f"configuration type {self.configuration_type} is not schedulable for instrument type "
            f"{self.instrument_type}"
        )


@frozen
class ScriptMustNameItsScript:
    configuration: Configuration

    def is_broken(self) -> bool:
        return self.configuration.type == "SCRIPT" and not self.configuration.extra_params.get("script_name")

    def message(self) -> str:
        return "Must specify a script_name in extra_params for SCRIPT configuration type"


@frozen
class RepeatTypeMustHaveRepeatDuration:
    configuration: Configuration

    def is_broken(self) -> bool:
        return is_repeat_type(self.configuration.type) and self.configuration.repeat_duration is None

    def message(self) -> str:
        return f"Must specify a configuration repeat_duration for {self.configuration.type} type configurations."


@frozen
class OnlyRepeatTypesHaveRepeatDuration:
    configuration: Configuration

    def is_broken(self) -> bool:
        return not is_repeat_type(self.configuration.type) and self.configuration.repeat_duration is not None

    def message(self) -> str:
        return "You may only specify a repeat_duration for REPEAT_* type configurations."


@frozen
class RepeatDurationMustCoverOneRepeat:
    """A repeat configuration runs its instrument configs at least once (4.2 step 2 gives their length)."""

    configuration: Configuration
    minimum_s: float

    def is_broken(self) -> bool:
        repeat = self.configuration.repeat_duration
        return is_repeat_type(self.configuration.type) and repeat is not None and repeat < self.minimum_s

    def message(self) -> str:
        return (
            f"Configuration repeat_duration of {number(self.configuration.repeat_duration or 0)} is less than the "
            f"minimum of {number(self.minimum_s)} required to repeat at least once"
        )


def is_dither_sequence(configuration: Configuration) -> bool:
    """Any instrument config offset from the target makes the configuration a dither sequence (3.4 step 12)."""
    return any(
        _nonzero(ic.extra_params.get("offset_ra")) or _nonzero(ic.extra_params.get("offset_dec"))
        for ic in configuration.instrument_configs
    )


def _nonzero(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value != 0


@frozen
class DitherPatternMustBeKnown:
    configuration: Configuration

    def is_broken(self) -> bool:
        pattern = self.configuration.extra_params.get("dither_pattern")
        return pattern is not None and pattern not in DITHER_PATTERNS

    def message(self) -> str:
        pattern = self.configuration.extra_params.get("dither_pattern")
        return (
            f"Invalid dither pattern {pattern} set in the configuration extra_params, "
            f"choose from {', '.join(DITHER_PATTERNS)}"
        )


@frozen
class DitherPatternNeedsOffsets:
    configuration: Configuration

    def is_broken(self) -> bool:
        pattern = self.configuration.extra_params.get("dither_pattern")
        return pattern in DITHER_PATTERNS and not is_dither_sequence(self.configuration)

    def message(self) -> str:
        pattern = self.configuration.extra_params.get("dither_pattern")
        return (
            f"You set a dither pattern of {pattern} but did not supply any non-zero dither offsets. You must "
            "specify offset_ra and/or offset_dec fields in the extra_params in one or more instrument_configs "
            "to create a dither pattern."
        )


def number(value: float) -> str:
    """A number as people write it: 40 rather than 40.0, 45.5 as it is."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# ---------------------------------------------------------------------------------------------------------
# The configuration, step by step (3.4)


def check_configuration(
    configuration: Configuration, catalogue: Catalogue, staff: bool
) -> tuple[Configuration, ErrorTree]:
    """The configuration with defaults filled and codes canonicalised, and its error tree ({} when clean).

    Field errors (target, instrument configs, instrument type) come first; the configuration's own rules
    (steps 4-12) run only when those are clean. Their messages go to ``non_field_errors``, except schema
    errors, which are nested where the schema found them.
    """
    configuration = coerced(configuration)
    errors: ErrorTree = {}
    found = target_errors(configuration.target)
    if found:
        errors["target"] = found
    if not configuration.instrument_configs:
        errors["instrument_configs"] = ["A configuration must have at least one instrument configuration"]
    instrument_type = catalogue.offered_type(configuration.instrument_type, staff)
    if instrument_type is None:
        valid = ", ".join(catalogue.offered_type_codes(staff))
        errors["instrument_type"] = [
            f"Invalid instrument type {configuration.instrument_type}. Valid instruments may include: {valid}"
        ]
    if errors or instrument_type is None:
        return configuration, errors
    return _check_configuration_rules(configuration, catalogue, catalogue.capabilities(instrument_type), staff)


def _check_configuration_rules(
    configuration: Configuration, catalogue: Catalogue, capabilities: InstrumentTypeCapabilities, staff: bool
) -> tuple[Configuration, ErrorTree]:
    code = capabilities.code
    nested: ErrorTree = {}
    messages: list[str] = []
    configuration = evolve(configuration, instrument_type=code, type=configuration.type.upper())  # steps 2-3

    guiding, found = apply_mode(  # step 4
        configuration.guiding_config, "guiding", configuration.guiding_config.mode, capabilities, staff, _set_guiding
    )
    messages += found
    configuration = evolve(configuration, guiding_config=guiding)

    properties = capabilities.configuration_types.get(configuration.type)  # step 5
    messages += broken_messages(
        ConfigurationTypeMustBeOffered(configuration.type, properties, code),
        ConfigurationTypeMustBeSchedulable(configuration.type, properties, code, staff),
    )

    acquisition = configuration.acquisition_config  # step 6
    if properties is not None and properties.force_acquisition_off:
        acquisition = evolve(acquisition, mode=OFF)
    else:
        given = acquisition.mode
        acquisition, found = apply_mode(acquisition, "acquisition", given, capabilities, staff, _set_acquisition)
        messages += found
    configuration = evolve(configuration, acquisition_config=acquisition)

    schemas = [capabilities.instrument_type.validation_schema]  # steps 7-8
    if properties is not None:
        schemas.append(properties.validation_schema)
    for schema in schemas:
        if schema:
            doc = document(configuration)
            normalised, schema_errors = validate(doc, schema)
            merge_errors(nested, schema_error_tree(schema_errors, doc))
            configuration = merge_document(configuration, normalised)

    required = properties.requires_optical_elements if properties is not None else True  # step 9
    instrument_configs = []
    for instrument_config in configuration.instrument_configs:
        checked, found = check_instrument_config(instrument_config, capabilities, staff, required)
        instrument_configs.append(checked)
        messages += found
    configuration = replace(configuration, instrument_configs=tuple(instrument_configs))

    messages += broken_messages(  # steps 10-11
        ScriptMustNameItsScript(configuration),
        RepeatTypeMustHaveRepeatDuration(configuration),
        OnlyRepeatTypesHaveRepeatDuration(configuration),
    )
    if not messages:  # the minimum needs the readout modes resolved above
        minimum = _single_repeat_s(configuration, catalogue.observatory)
        messages += broken_messages(RepeatDurationMustCoverOneRepeat(configuration, minimum))

    unknown_pattern = DitherPatternMustBeKnown(configuration)  # step 12
    messages += broken_messages(unknown_pattern) or broken_messages(DitherPatternNeedsOffsets(configuration))
    if "dither_pattern" not in configuration.extra_params and is_dither_sequence(configuration):
        extra_params = {**configuration.extra_params, "dither_pattern": CUSTOM_DITHER}
        configuration = evolve(configuration, extra_params=extra_params)

    if messages:
        nested[NON_FIELD] = list(dict.fromkeys(messages))
    return configuration, nested


def _single_repeat_s(configuration: Configuration, observatory: Observatory) -> float:
    """Σ of the instrument config durations (4.2 step 2): one pass through the repeat."""
    if not is_repeat_type(configuration.type):
        return 0.0
    overheads = InstrumentTypeOverheads.of(observatory, configuration.instrument_type)
    return sum(instrument_config_duration(ic, overheads) for ic in configuration.instrument_configs)


class Rule(Protocol):
    """A rule object whose message, when broken, belongs to the object it checks (``non_field_errors``)."""

    def is_broken(self) -> bool: ...

    def message(self) -> str: ...


def broken_messages(*rules: Rule) -> list[str]:
    """Messages of the broken rules, in order."""
    return [rule.message() for rule in rules if rule.is_broken()]

"""Builders of request groups for the storage contracts: short defaults, and one group using every corner."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.requestgroups import (
    AcquisitionConfig,
    Configuration,
    Constraints,
    GuidingConfig,
    InstrumentConfig,
    Location,
    ObservationType,
    Operator,
    OptimizationType,
    OrbitalScheme,
    RegionOfInterest,
    Request,
    RequestGroup,
    Target,
    TargetType,
    Window,
)

T0 = datetime(2026, 12, 1, 12, 0, 0, 123456, tzinfo=UTC)
SINISTRO = "1M0-SCICAM-SINISTRO"
FLOYDS = "2M0-FLOYDS-SCICAM"


def days(n: float) -> datetime:
    return T0 + timedelta(days=n)


def configuration(target: str | Target = "M31", instrument_type: str = SINISTRO, **more: Any) -> Configuration:
    """An EXPOSE configuration of one 30 s exposure at an ICRS target (or the target given)."""
    chosen = Target.icrs(target, 10.684708, 41.26875) if isinstance(target, str) else target
    return Configuration(
        instrument_type, more.pop("type", "EXPOSE"), [InstrumentConfig(30.0, 1, mode="full_frame")], chosen, **more
    )


def request(
    *configurations: Configuration,
    windows: Sequence[tuple[float, float]] = ((0, 10),),
    telescope_class: str | None = "1m0",
    duration: int | None = 100,
    **more: Any,
) -> Request:
    """A request over the configurations (one at M31 if none) with windows given in days from T0."""
    return Request.create(
        configurations or [configuration()],
        windows=[Window(days(start), days(end)) for start, end in windows],
        location=None if telescope_class is None else Location(telescope_class),
        duration=duration,
        **more,
    )


def group(
    *requests: Request,
    proposal: str = "ALPHA",
    submitter: str = "ada",
    name: str = "group",
    observation_type: ObservationType | str = ObservationType.NORMAL,
    operator: Operator | str = Operator.SINGLE,
    ipp_value: float = 1.0,
    now: datetime = T0,
) -> RequestGroup:
    """A group submitted at ``now`` holding the requests (one default request if none)."""
    return RequestGroup.submit(
        proposal=proposal,
        submitter=submitter,
        name=name,
        observation_type=observation_type,
        operator=operator,
        ipp_value=ipp_value,
        requests=list(requests) or [request()],
        now=now,
    )


def every_target() -> list[Target]:
    """One target of each type, with every field of its type set (and only those, as storage keeps only those)."""
    return [
        Target.icrs(
            "M31",
            10.684708333,
            41.26875,
            proper_motion_ra=-0.1,
            proper_motion_dec=12.5,
            parallax=0.25,
            epoch=2015.5,
            extra_params={"v_magnitude": 3.44},
        ),
        Target("Polaris HA", TargetType.HOUR_ANGLE, hour_angle=-1.5, dec=89.26, proper_motion_ra=44.0),
        Target(
            "ISS",
            TargetType.SATELLITE,
            altitude=45.0,
            azimuth=270.5,
            diff_altitude_rate=0.1,
            diff_azimuth_rate=-0.2,
            diff_altitude_acceleration=0.001,
            diff_azimuth_acceleration=-0.002,
            diff_epoch=61000.5,
        ),
        Target(
            "C/2025 A1",
            TargetType.ORBITAL_ELEMENTS,
            scheme=OrbitalScheme.MPC_COMET,
            epochofel=61000.0,
            orbinc=120.25,
            longascnode=33.3,
            argofperih=270.0,
            perihdist=1.05,
            eccentricity=1.0001,
            epochofperih=61020.75,
            extra_params={"source": "MPC"},
        ),
        Target(
            "Jupiter",
            TargetType.ORBITAL_ELEMENTS,
            scheme=OrbitalScheme.JPL_MAJOR_PLANET,
            epochofel=61000.0,
            orbinc=1.3,
            longascnode=100.5,
            argofperih=273.8,
            meandist=5.2,
            eccentricity=0.048,
            meananom=20.0,
            dailymot=0.083,
        ),
        Target(
            "Ceres",
            TargetType.ORBITAL_ELEMENTS,
            scheme=OrbitalScheme.ASA_MAJOR_PLANET,
            epochofel=61000.0,
            orbinc=10.6,
            longascnode=80.3,
            longofperih=73.6,
            meandist=2.77,
            eccentricity=0.0785,
            meanlong=153.2,
            dailymot=0.214,
        ),
    ]


def rich_group() -> RequestGroup:
    """Every field away from its default: all target types, ROIs, several windows, priorities out of order,
    nested extra_params, a repeat configuration, DIRECT names, suspend_until."""
    nested = {"a": {"b": [1, 2.5, "x", None, True]}, "ünïcode": "ok", "empty": {}}
    targets = every_target()
    detailed = Configuration(
        FLOYDS,
        "REPEAT_SPECTRUM",
        [
            InstrumentConfig(
                120.5,
                3,
                mode="default",
                rotator_mode="VFLOAT",
                optical_elements={"slit": "slit_2.0as"},
                extra_params={"bin_x": 2, "bin_y": 2, "offsets": nested},
                rois=[RegionOfInterest(0, 100, None, 200), RegionOfInterest(1, 2, 3, 4)],
            ),
            InstrumentConfig(0.0, 1),
        ],
        targets[0],
        Constraints(2.0, 45.5, 0.75, max_seeing=1.8, min_transparency=0.9, extra_params={"note": "dark"}),
        AcquisitionConfig("WCS", 12.5, {"acquire_radius": 5}),
        GuidingConfig("ON", False, {"filter": "rp"}, 7.5, {"guide": nested}),
        repeat_duration=1800.0,
        extra_params={"dither_pattern": "line", "deep": nested},
        priority=2,
        instrument_name="floyds01",
        guide_camera_name="kb42",
    )
    first = Request(
        # Priorities out of list order, and a tie: the list order is what must come back.
        [detailed, configuration(targets[1], priority=1), configuration(targets[2], priority=2)],
        windows=[Window(days(0), days(1.5)), Window(days(3), days(4)), Window(days(-1), days(0.25))],
        location=Location("2m0", "ogg", "clma", "2m0a"),
        observation_note="Observe early",
        optimization_type=OptimizationType.AIRMASS,
        acceptability_threshold=87.5,
        configuration_repeats=3,
        extra_params={"mosaic_pattern": "grid", "deep": nested},
        duration=5432,
    )
    second = request(
        *(configuration(target, type="EXPOSE") for target in targets[3:]),
        windows=((2, 9),),
        telescope_class="1m0",
        duration=None,
    )
    built = group(
        first,
        second,
        name="Everything at once",
        observation_type=ObservationType.TIME_CRITICAL,
        operator=Operator.MANY,
        ipp_value=1.25,
    )
    first.suspend_until = days(0.5)
    return built

"""The downtime rules of observatory.md 3.2, checked against a small hand-built network."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.downtime import (
    COMBINATION_UNKNOWN,
    CodeChoices,
    CombinationMustExistInConfigdb,
    Downtime,
    DowntimeCancelled,
    DowntimeChanged,
    DowntimeScheduled,
    EndMustFollowStart,
    check_downtime,
)
from domain.errors import ValidationError
from domain.observatory import (
    Camera,
    CameraType,
    ConfigurationType,
    Enclosure,
    Instrument,
    InstrumentCategory,
    InstrumentType,
    ModeType,
    Observatory,
    Site,
    Telescope,
)

# site code -> (active, {enclosure code -> {telescope code -> [(instrument code, type code, state)]}}).
# A subset of the demo network with its awkward cases: aqwa and 1m0a exist but never together at coj, tlv is an
# inactive site whose instruments are all DISABLED, and the NRES at lsc is only COMMISSIONING.
SMALL_NETWORK = {
    "coj": (
        True,
        {
            "clma": {
                "2m0a": [("floyds02", "2M0-FLOYDS-SCICAM", "SCHEDULABLE"), ("mc04", "2M0-SCICAM-MUSCAT", "MANUAL")]
            },
            "doma": {"1m0a": [("fa12", "1M0-SCICAM-SINISTRO", "SCHEDULABLE")]},
        },
    ),
    "lsc": (
        True,
        {
            "aqwa": {"0m4a": [("sq04", "0M4-SCICAM-QHY600", "SCHEDULABLE")]},
            "doma": {
                "1m0a": [
                    ("fa15", "1M0-SCICAM-SINISTRO", "SCHEDULABLE"),
                    ("nres01", "1M0-NRES-SCICAM", "COMMISSIONING"),
                ]
            },
        },
    ),
    "ogg": (
        True,
        {
            "clma": {
                "0m4b": [("sq05", "0M4-SCICAM-QHY600", "SCHEDULABLE")],
                "2m0a": [
                    ("floyds01", "2M0-FLOYDS-SCICAM", "SCHEDULABLE"),
                    ("mc03", "2M0-SCICAM-MUSCAT", "SCHEDULABLE"),
                ],
            }
        },
    ),
    "tlv": (
        False,
        {"doma": {"1m0a": [("fa01", "1M0-SCICAM-SINISTRO", "DISABLED"), ("nres04", "1M0-NRES-SCICAM", "DISABLED")]}},
    ),
}
INSTRUMENT_TYPES = {
    "1M0-SCICAM-SINISTRO": ("IMAGE", "EXPOSE", 1.0),
    "0M4-SCICAM-QHY600": ("IMAGE", "EXPOSE", 0.4),
    "2M0-FLOYDS-SCICAM": ("SPECTRA", "SPECTRUM", 2.0),
    "2M0-SCICAM-MUSCAT": ("IMAGE", "EXPOSE", 2.0),
    "1M0-NRES-SCICAM": ("SPECTRA", "NRES_SPECTRUM", 1.0),
}


def small_observatory() -> Observatory:
    """A consistent observatory of SMALL_NETWORK; each instrument has one camera of the same code."""
    obs = Observatory()
    for mode_type in ("readout", "acquisition", "guiding", "exposure", "rotator"):
        obs.mode_types[mode_type] = ModeType(mode_type)
    for category in ("IMAGE", "SPECTRA"):
        obs.instrument_categories[category] = InstrumentCategory(category)
    type_ids: dict[str, int] = {}
    for type_id, (code, (category, config_type, _)) in enumerate(INSTRUMENT_TYPES.items(), start=1):
        obs.configuration_types.setdefault(config_type, ConfigurationType(config_type, config_type.title()))
        obs.instrument_types[type_id] = InstrumentType(type_id, code, code, category, config_type)
        obs.camera_types[type_id] = CameraType(type_id, code, code, pscale=0.389)
        type_ids[code] = type_id
    ids = {"enclosure": 0, "telescope": 0, "instrument": 0}
    for site_id, (site_code, (active, enclosures)) in enumerate(sorted(SMALL_NETWORK.items()), start=1):
        obs.sites[site_id] = Site(
            site_id, site_code, lat=20.7, long=-156.3, elevation=3000, timezone=-10, active=active
        )
        for enclosure_code, telescopes in enclosures.items():
            ids["enclosure"] += 1
            enclosure = Enclosure(ids["enclosure"], site_id, enclosure_code)
            obs.enclosures[enclosure.id] = enclosure
            for telescope_code, instruments in telescopes.items():
                ids["telescope"] += 1
                aperture = float(telescope_code[0]) + float(telescope_code[2]) / 10
                telescope = Telescope(
                    ids["telescope"], enclosure.id, telescope_code, aperture, 20.7, -156.3, 15, -4.6, 4.6
                )
                obs.telescopes[telescope.id] = telescope
                for code, type_code, state in instruments:
                    ids["instrument"] += 1
                    number = ids["instrument"]
                    obs.cameras[number] = Camera(number, code, type_ids[type_code])
                    obs.instruments[number] = Instrument(
                        number, telescope.id, code, type_ids[type_code], (number,), number, state=state
                    )
    return obs


T0 = datetime(2026, 11, 25, 18, tzinfo=UTC)
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def downtime_fields(**overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "start": T0,
        "end": T0 + timedelta(hours=8),
        "site": "ogg",
        "enclosure": "clma",
        "telescope": "2m0a",
        "instrument_type": "2M0-FLOYDS-SCICAM",
        "reason": "FLOYDS detector vacuum pump-down",
    }
    fields.update(overrides)
    return fields


def errors_of(observatory: Observatory, **overrides: object) -> dict[str, object]:
    with pytest.raises(ValidationError) as caught:
        check_downtime(observatory, **downtime_fields(**overrides))  # type: ignore[arg-type]
    return caught.value.errors


@pytest.fixture
def obs() -> Observatory:
    return small_observatory()


def test_a_whole_telescope_downtime_on_a_real_telescope_is_accepted(obs: Observatory) -> None:
    assert check_downtime(obs, **downtime_fields(instrument_type="")) == ""  # type: ignore[arg-type]


def test_instrument_type_is_matched_case_insensitively_and_returned_as_configdb_spells_it(obs: Observatory) -> None:
    spelled = check_downtime(obs, **downtime_fields(instrument_type="2m0-Floyds-SciCam"))  # type: ignore[arg-type]
    assert spelled == "2M0-FLOYDS-SCICAM"


@pytest.mark.parametrize("hours", [0, -1, -48])
def test_end_not_after_start_is_refused_with_the_upstream_message(obs: Observatory, hours: int) -> None:
    assert errors_of(obs, end=T0 + timedelta(hours=hours)) == {
        "non_field_errors": ["End time must be after start time"]
    }


@pytest.mark.parametrize("field", ["site", "enclosure", "telescope", "instrument_type"])
def test_a_code_unknown_everywhere_in_configdb_is_refused_on_its_field(obs: Observatory, field: str) -> None:
    assert errors_of(obs, **{field: "xyz"}) == {field: ['"xyz" is not a valid choice.']}


def test_every_unknown_code_is_reported_in_one_answer(obs: Observatory) -> None:
    assert errors_of(obs, site="xyz", telescope="9m9z", end=T0) == {
        "site": ['"xyz" is not a valid choice.'],
        "telescope": ['"9m9z" is not a valid choice.'],
    }


def test_site_codes_are_matched_exactly_not_case_insensitively(obs: Observatory) -> None:
    assert errors_of(obs, site="OGG") == {"site": ['"OGG" is not a valid choice.']}


@pytest.mark.parametrize(
    "overrides",
    [
        {"site": "coj", "enclosure": "aqwa", "telescope": "1m0a", "instrument_type": ""},
        {"site": "ogg", "enclosure": "doma", "telescope": "1m0a", "instrument_type": ""},
        {"site": "ogg", "enclosure": "clma", "telescope": "2m0a", "instrument_type": "1M0-NRES-SCICAM"},
        {"site": "coj", "enclosure": "clma", "telescope": "0m4b", "instrument_type": ""},
    ],
    ids=["enclosure-not-at-site", "telescope-of-another-site", "type-not-on-telescope", "telescope-elsewhere"],
)
def test_valid_codes_in_a_combination_configdb_lacks_are_refused(obs: Observatory, overrides: dict[str, str]) -> None:
    assert errors_of(obs, **overrides) == {"non_field_errors": [COMBINATION_UNKNOWN]}


def test_a_disabled_instrument_on_an_inactive_site_still_carries_its_type(obs: Observatory) -> None:
    fields = downtime_fields(site="tlv", enclosure="doma", telescope="1m0a", instrument_type="1M0-NRES-SCICAM")
    assert check_downtime(obs, **fields) == "1M0-NRES-SCICAM"  # type: ignore[arg-type]


def test_end_before_start_is_reported_before_a_missing_combination(obs: Observatory) -> None:
    assert errors_of(obs, enclosure="aqwa", end=T0) == {"non_field_errors": ["End time must be after start time"]}


def test_a_reason_over_3000_characters_is_refused(obs: Observatory) -> None:
    assert errors_of(obs, reason="x" * 3001) == {"reason": ["Ensure this field has no more than 3000 characters."]}
    check_downtime(obs, **downtime_fields(reason="x" * 3000))  # type: ignore[arg-type]


def test_codes_are_checked_against_the_snapshot_given_not_a_frozen_list() -> None:
    obs = small_observatory()
    ogg = next(s for s in obs.sites.values() if s.code == "ogg")
    obs.sites[ogg.id] = Site(ogg.id, "ogx", lat=0, long=0, elevation=0, timezone=0)
    assert errors_of(obs) == {"site": ['"ogg" is not a valid choice.']}
    check_downtime(obs, **downtime_fields(site="ogx"))  # type: ignore[arg-type]


@given(
    start=st.datetimes(timezones=st.just(UTC)),
    length=st.timedeltas(min_value=timedelta(days=-400), max_value=timedelta(days=400)),
)
def test_end_must_follow_start_is_broken_exactly_when_the_length_is_not_positive(
    start: datetime, length: timedelta
) -> None:
    try:
        end = start + length
    except OverflowError:
        return
    assert EndMustFollowStart(start, end).is_broken() == (length <= timedelta(0))


def test_combination_rule_names_no_field() -> None:
    rule = CombinationMustExistInConfigdb("ogg", "clma", "2m0a", "", CodeChoices.of(small_observatory()))
    assert (rule.field, rule.is_broken()) == ("non_field_errors", False)


def test_scheduling_stores_the_configdb_spelling_and_records_the_slot(obs: Observatory) -> None:
    downtime = Downtime.schedule(obs, **downtime_fields(instrument_type="2m0-floyds-scicam"), now=NOW)  # type: ignore[arg-type]
    assert (downtime.id, downtime.instrument_type, downtime.created, downtime.modified) == (
        None,
        "2M0-FLOYDS-SCICAM",
        NOW,
        NOW,
    )
    assert downtime.events == [DowntimeScheduled(downtime.slot())]
    assert downtime.slot().telescope == "2m0a"


def test_scheduling_a_broken_downtime_raises_before_anything_exists(obs: Observatory) -> None:
    with pytest.raises(ValidationError):
        Downtime.schedule(obs, **downtime_fields(end=T0), now=NOW)  # type: ignore[arg-type]


def _stored(obs: Observatory) -> Downtime:
    downtime = Downtime.schedule(obs, **downtime_fields(), now=NOW)  # type: ignore[arg-type]
    downtime.id = 7
    downtime.events.clear()
    return downtime


def test_revising_returns_old_and_new_json_values_of_changed_fields_only(obs: Observatory) -> None:
    downtime = _stored(obs)
    later = NOW + timedelta(hours=1)
    changes = downtime.revise(obs, {"end": T0 + timedelta(hours=9), "reason": downtime.reason}, now=later)
    assert changes == {"end": ["2026-11-26T02:00:00+00:00", "2026-11-26T03:00:00+00:00"]}
    assert (downtime.end, downtime.modified, downtime.created) == (T0 + timedelta(hours=9), later, NOW)


def test_revising_records_both_slots_so_the_old_telescope_is_replanned_too(obs: Observatory) -> None:
    downtime = _stored(obs)
    before = downtime.slot()
    downtime.revise(obs, {"site": "coj", "instrument_type": ""}, now=NOW)
    assert downtime.events == [DowntimeChanged(7, before, downtime.slot())]
    assert downtime.slot().site == "coj"


def test_revising_checks_the_merged_result_and_changes_nothing_when_it_is_broken(obs: Observatory) -> None:
    downtime = _stored(obs)
    with pytest.raises(ValidationError) as caught:
        downtime.revise(obs, {"start": T0 + timedelta(hours=8)}, now=NOW + timedelta(hours=1))
    assert caught.value.errors == {"non_field_errors": ["End time must be after start time"]}
    assert (downtime.start, downtime.modified, downtime.events) == (T0, NOW, [])


def test_revising_to_the_same_values_changes_nothing_and_records_no_event(obs: Observatory) -> None:
    downtime = _stored(obs)
    assert downtime.revise(obs, {"instrument_type": "2m0-floyds-scicam"}, now=NOW + timedelta(hours=1)) == {}
    assert (downtime.modified, downtime.events) == (NOW, [])


def test_revising_refuses_fields_that_are_not_data(obs: Observatory) -> None:
    with pytest.raises(ValueError, match="created"):
        _stored(obs).revise(obs, {"created": NOW}, now=NOW)


def test_cancelling_records_the_freed_slot_and_returns_the_old_values(obs: Observatory) -> None:
    downtime = _stored(obs)
    removed = downtime.cancel()
    assert downtime.events == [DowntimeCancelled(7, downtime.slot())]
    assert removed["site"] == ["ogg", None]
    assert removed["start"] == ["2026-11-25T18:00:00+00:00", None]

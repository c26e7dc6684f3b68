"""The airmass plot of a request (requests.md 7.4) over a double of the Visibility port: which sites, which
samples, which target and limit, downtimes, who may see a stored request, and the check a posted one gets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from application.airmass import airmass_limit, airmass_plot, stored_request_airmass, submitted_request_airmass
from application.request_visibility import NOT_VISIBLE, visible_intervals_by_site_for_each
from domain.errors import NON_FIELD, NotFoundError, ValidationError
from domain.permissions import Actor
from domain.requestgroups import Location, Target
from domain.visibility import SiderealTarget
from tests.unit.application.sky_fixtures import (
    DAY,
    NOW,
    OTHER,
    DailySky,
    SkyWorld,
    airmass_at,
    configuration,
    sky_request,
)
from tests.unit.domain.observatory_fixtures import demo_observatory

STAFF = Actor.operator()
SINISTRO_KEYS = ["coj.doma.1m0a", "coj.domb.1m0a", "cpt.doma.1m0a", "cpt.domc.1m0a", "elp.doma.1m0a", "lsc.doma.1m0a"]


def plot_of(request, sky, **kwargs):  # type: ignore[no-untyped-def]
    observatory = demo_observatory()
    (by_site,) = visible_intervals_by_site_for_each([request], observatory, sky, [{}])
    return airmass_plot(request, observatory, sky, by_site, **kwargs)


def test_samples_lie_on_whole_ten_minutes_of_utc_inside_each_sites_visible_intervals() -> None:
    sky = DailySky({"elp": (2 + 3 / 60, 3.5)})  # 02:03 to 03:30 every day
    plot = plot_of(sky_request(days=2), sky)
    assert list(plot.sites) == ["elp"]
    expected = [
        day + timedelta(hours=2, minutes=minute)
        for day in (DAY, DAY + timedelta(days=1))
        for minute in range(10, 90, 10)  # 02:10 ... 03:20; 03:30 is the interval's (open) end
    ]
    assert plot.sites["elp"].times == tuple(expected)
    assert plot.sites["elp"].airmasses == tuple(airmass_at(t) for t in expected)
    # One call of the port for the site, on the ten-minute grid from the first interval.
    ((_, keys, start, end, step),) = sky.airmass_calls
    assert (keys, start, end, step) == (
        ["elp.doma.1m0a"],
        DAY + timedelta(hours=2),
        expected[-1] + timedelta(minutes=10),
        600,
    )


def test_only_sites_hosting_schedulable_instruments_of_the_first_configurations_type_are_asked() -> None:
    sky = DailySky(dict.fromkeys(("coj", "cpt", "elp", "lsc", "ogg", "tfn", "tlv"), (1.0, 2.0)))
    plot = plot_of(sky_request(), sky)
    assert list(plot.sites) == ["coj", "cpt", "elp", "lsc"]
    (_, asked, _) = sky.visible_calls[0]
    assert asked == SINISTRO_KEYS
    # Each site's airmass comes from its first candidate telescope.
    assert [keys for _, keys, _, _, _ in sky.airmass_calls] == [
        ["coj.doma.1m0a"],
        ["cpt.doma.1m0a"],
        ["elp.doma.1m0a"],
        ["lsc.doma.1m0a"],
    ]


def test_the_location_narrows_the_sites() -> None:
    sky = DailySky(dict.fromkeys(("coj", "cpt", "elp", "lsc"), (1.0, 2.0)))
    plot = plot_of(sky_request(location=Location("1m0", "lsc")), sky)
    assert list(plot.sites) == ["lsc"]


def test_the_first_configurations_target_is_plotted_and_the_limit_is_the_mean_of_distinct_pairs() -> None:
    sky = DailySky({"elp": (1.0, 2.0)})
    request = sky_request(
        configuration(10, 5, max_airmass=2.0),
        configuration(50, 5, max_airmass=1.6),
        configuration(10, 5, max_airmass=2.0),  # the same pair again counts once
    )
    plot = plot_of(request, sky)
    assert plot.airmass_limit == pytest.approx(1.8)
    assert {target for target, *_ in sky.airmass_calls} == {SiderealTarget(10, 5)}
    # The intervals are those in which every target is observable at once: both were asked in one call.
    assert len(sky.visible_calls[0][0]) == 2


def test_one_pair_gives_its_own_limit() -> None:
    assert airmass_limit(sky_request(configuration(max_airmass=2.0))) == 2.0


def test_a_first_target_the_port_cannot_follow_has_no_data_but_keeps_its_limit() -> None:
    sky = DailySky({"elp": (1.0, 2.0)})
    satellite = Target("sat", "SATELLITE", altitude=30, azimuth=20)
    plot = plot_of(sky_request(configuration(target=satellite, max_airmass=1.8), configuration()), sky)
    assert plot.sites == {}
    assert sky.airmass_calls == []
    assert plot.airmass_limit == pytest.approx(1.9)


def test_a_stored_request_is_plotted_without_the_downtimes_of_its_telescopes() -> None:
    world = SkyWorld()
    stored = world.store_request(sky_request(location=Location("1m0", "elp")))
    world.add_downtime("elp.doma.1m0a", DAY, DAY + timedelta(days=1))
    world.add_downtime("elp.doma.1m0a", DAY + timedelta(days=1), DAY + timedelta(days=1, hours=2), "2M0-FLOYDS-SCICAM")
    sky = DailySky({"elp": (1.0, 2.0)})
    assert stored.id is not None
    plot = stored_request_airmass(world.uow(), STAFF, sky, stored.id)
    second_night = DAY + timedelta(days=1, hours=1)
    # The first night is down; the second is untouched by another type's downtime.
    assert plot.sites["elp"].times == tuple(second_night + timedelta(minutes=m) for m in range(0, 60, 10))


def test_a_stored_request_the_caller_may_not_see_is_not_found() -> None:
    world = SkyWorld()
    stored = world.store_request(sky_request())
    assert stored.id is not None
    with pytest.raises(NotFoundError):
        stored_request_airmass(world.uow(), Actor.anonymous(), DailySky(), stored.id)
    with pytest.raises(NotFoundError):
        stored_request_airmass(world.uow(), STAFF, DailySky(), stored.id + 1)


def test_a_public_proposals_request_is_plotted_for_anyone() -> None:
    world = SkyWorld()
    with world.uow() as uow:
        proposal = uow.proposals.get(OTHER)
        assert proposal is not None
        proposal.public = True
        uow.commit()
    stored = world.store_request(sky_request(), proposal=OTHER)
    assert stored.id is not None
    plot = stored_request_airmass(world.uow(), Actor.anonymous(), DailySky({"coj": (1.0, 2.0)}), stored.id)
    assert list(plot.sites) == ["coj"]


def test_a_posted_request_is_checked_as_a_submitted_one_first() -> None:
    world = SkyWorld()
    bad = sky_request(configuration(instrument_type="1M0-NOPE"))
    with pytest.raises(ValidationError) as refused:
        submitted_request_airmass(world.uow(), Actor.anonymous(), DailySky(), bad, NOW)
    assert "configurations" in refused.value.errors
    next_year = sky_request(start=datetime(2017, 2, 1, tzinfo=UTC))  # no semester holds it
    with pytest.raises(ValidationError) as refused:
        submitted_request_airmass(world.uow(), Actor.anonymous(), DailySky(), next_year, NOW)
    assert "windows" in refused.value.errors


def test_a_posted_request_that_is_never_visible_gets_the_visibility_refusal() -> None:
    world = SkyWorld()
    with pytest.raises(ValidationError) as refused:
        submitted_request_airmass(world.uow(), Actor.anonymous(), DailySky(), sky_request(), NOW)
    assert refused.value.errors == {NON_FIELD: [NOT_VISIBLE]}


def test_a_posted_request_is_plotted_from_the_intervals_its_check_computed() -> None:
    world = SkyWorld()
    sky = DailySky({"cpt": (20.0, 21.0)})
    plot = submitted_request_airmass(world.uow(), Actor.anonymous(), sky, sky_request(days=1), NOW)
    assert len(sky.visible_calls) == 1
    assert plot.sites["cpt"].times == tuple(DAY + timedelta(hours=20, minutes=m) for m in range(0, 60, 10))
    assert plot.airmass_limit == 2.0

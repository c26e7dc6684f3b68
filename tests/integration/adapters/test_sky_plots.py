"""The sky plots on the real astropy adapter: H4 of requests.md 8.7 on the reference world (the demo network and
P0's request), and the site nights of the pressure plot against the sun's altitude from plain astropy."""

from __future__ import annotations

import copy
from datetime import timedelta

import astropy.units as u
import pytest
from astropy.coordinates import AltAz, EarthLocation, get_sun
from astropy.time import Time

from adapters.astropy_visibility import AstropyVisibility
from adapters.request_wire import parse_request
from application.airmass import stored_request_airmass
from application.contention import pressure
from domain.permissions import Actor
from tests.unit.application.sky_fixtures import NOW, SkyWorld
from tests.unit.domain.observatory_fixtures import demo_observatory
from tests.unit.entrypoints.request_world import P0


@pytest.fixture(scope="module")
def visibility() -> AstropyVisibility:
    return AstropyVisibility()


def test_h4_p0s_airmass_stays_within_its_limit_at_sites_hosting_schedulable_sinistros(
    visibility: AstropyVisibility,
) -> None:
    world = SkyWorld()
    request = parse_request(copy.deepcopy(P0["requests"][0]), now=NOW)
    request.duration = 226
    stored = world.store_request(request)
    assert stored.id is not None
    plot = stored_request_airmass(world.uow(), Actor.operator(), visibility, stored.id)
    assert plot.airmass_limit == 2.0
    assert plot.sites
    assert set(plot.sites) <= {"coj", "cpt", "elp", "lsc"}
    window = request.windows[0]
    for samples in plot.sites.values():
        assert samples.airmasses
        assert all(1.0 <= airmass <= 2.0 for airmass in samples.airmasses)
        assert all(window.start <= moment < window.end for moment in samples.times)
        assert all(moment.minute % 10 == 0 and moment.second == 0 for moment in samples.times)


def test_site_nights_begin_and_end_with_nautical_twilight(visibility: AstropyVisibility) -> None:
    found = pressure(SkyWorld().uow(), Actor.anonymous(), visibility, NOW)
    sites = {site.code: site for site in demo_observatory().sites.values()}
    assert {night.site for night in found.site_nights} >= {"coj", "cpt", "elp", "lsc"}
    edges = [
        (night.site, hours)
        for night in found.site_nights
        for hours in (night.start_h, night.stop_h)
        if 0.0 < hours < 24.0
    ]
    assert edges
    for code, hours in edges:
        site = sites[code]
        where = EarthLocation.from_geodetic(site.long * u.deg, site.lat * u.deg, site.elevation * u.m)
        when = Time(NOW + timedelta(hours=hours))
        altitude = get_sun(when).transform_to(AltAz(obstime=when, location=where)).alt.deg
        assert altitude == pytest.approx(-12.0, abs=0.1), (code, hours)

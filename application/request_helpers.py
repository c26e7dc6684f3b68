"""Use cases of the request helpers that expand without storing: cadence (requests.md 7.1), dither (7.2) and
mosaic (7.3). Each answers domain objects the client writes back as JSON and resubmits; nothing is stored, so
each opens its unit of work only to read the observatory (and, for a cadence, to validate like a submission).
"""

from __future__ import annotations

from datetime import datetime

from attrs import evolve

from application.handlers.requestgroups import HooksFactory, VisibilityHooks, check_submission
from application.ports import UnitOfWork
from domain.cadence import (
    LargestInterval,
    SubmittedCadenceGroup,
    cadence_errors,
    expand_requests,
    expanded_operator,
)
from domain.configuration_checks import check_configuration
from domain.duration import request_duration
from domain.errors import ErrorTree, ValidationError
from domain.instrument_catalogue import Catalogue
from domain.observatory import Observatory
from domain.patterns import (
    DetectorField,
    PatternParameters,
    dither_configuration,
    mosaic_request,
    mosaic_request_errors,
)
from domain.permissions import Action, Actor, require
from domain.request_validation import RequestGroupSubmission
from domain.requestgroups import Configuration, Request, RequestGroup

# What the composition root hands over for the sky check of 3.8: ``(uow, now) -> VisibilityHooks``, or None when
# no Visibility adapter is configured.
# ---------------------------------------------------------------------------------------------------------
# Cadence (7.1)


def expand_cadence(
    uow: UnitOfWork,
    actor: Actor,
    submission: SubmittedCadenceGroup,
    now: datetime,
    hooks: HooksFactory | None = None,
) -> RequestGroup:
    """``POST /api/requestgroups/cadence/``: the group with each cadence request replaced by its visible copies,
    validated as a submission would be (defaults filled, durations fixed), unsaved and without ids.

    Refused (ValidationError) when a cadence request breaks its own rules or has invalid configurations, when
    no cadence window is visible (``{"errors": "No visible requests ..."}``), or when the expanded group fails
    validation. Without ``hooks`` (no Visibility adapter configured) every window counts as fully visible, so
    only windows shorter than the request, or already over, are dropped.
    """
    require(Action.LIST_OWN, actor)
    with uow:
        observatory = uow.observatory.get()
        durations = _cadence_durations(submission, observatory, actor, now)
        starts = [cadence.start for cadence in submission.cadences if cadence is not None]
        # 7.1 step 2 does not exclude the past, and the hooks count only what lies after their ``now``: built at
        # the earliest cadence start, no part of any candidate window is cut off as past.
        since = min([*starts, now])
        requests = expand_requests(
            submission.requests,
            submission.cadences,
            durations_s=durations,
            largest_interval=_largest_interval(hooks(uow, since) if hooks else None),
            now=now,
        )
        expanded = RequestGroupSubmission(
            submission.proposal,
            submission.name,
            submission.observation_type,
            expanded_operator(submission.operator, len(requests)),
            submission.ipp_value,
            requests,  # type: ignore[arg-type]  # the converter makes the tuple; mypy's attrs plugin wants one
        )
        checked = check_submission(uow, actor, expanded, now, hooks(uow, now) if hooks else None)
    validated = checked.validated
    return RequestGroup(
        validated.proposal.id,
        actor.username,
        validated.name,
        validated.observation_type,
        validated.operator,
        validated.ipp_value,
        list(validated.requests),
    )


def _cadence_durations(
    submission: SubmittedCadenceGroup, observatory: Observatory, actor: Actor, now: datetime
) -> list[float | None]:
    """Each cadence request's duration (7.1 step 1) from its configurations with configdb's defaults, aligned
    with the requests (None for the others); ValidationError with every cadence request's problems."""
    catalogue = Catalogue(observatory)
    errors: list[ErrorTree] = []
    durations: list[float | None] = []
    for request, cadence in zip(submission.requests, submission.cadences, strict=True):
        if cadence is None:
            errors.append({})
            durations.append(None)
            continue
        problems = cadence_errors(request, cadence, now)
        checked = [check_configuration(c, catalogue, actor.is_staff) for c in request.configurations]
        if any(found for _, found in checked):
            problems["configurations"] = [found for _, found in checked]
        errors.append(problems)
        configurations = [configuration for configuration, _ in checked]
        durations.append(_duration(configurations, request, observatory) if not problems else None)
    if any(errors):
        raise ValidationError({"requests": errors})
    return durations


def _duration(configurations: list[Configuration], request: Request, observatory: Observatory) -> float:
    """Seconds; a request without configurations has none (validation of the expanded group refuses it)."""
    if not configurations:
        return 0.0
    return request_duration(evolve(request, configurations=configurations), observatory)


def _largest_interval(hooks: VisibilityHooks | None) -> LargestInterval:
    """The visibility a cadence window is kept by; without hooks, the whole (single) window."""
    if hooks is None:
        return lambda request: max((window.seconds for window in request.windows), default=0.0)
    return hooks.largest_interval


# ---------------------------------------------------------------------------------------------------------
# Dither (7.2) and mosaic (7.3)


def dither(uow: UnitOfWork, actor: Actor, configuration: Configuration, parameters: PatternParameters) -> Configuration:
    """``POST /api/configurations/dither/``: the configuration with its instrument configs repeated at each
    offset of the pattern, checked against configdb like a submitted one (errors keyed ``configuration``)."""
    require(Action.LIST_OWN, actor)
    expanded = dither_configuration(configuration, parameters)
    with uow:
        catalogue = Catalogue(uow.observatory.get())
    checked, problems = check_configuration(expanded, catalogue, actor.is_staff)
    if problems:
        raise ValidationError({"configuration": problems})
    return checked


def mosaic(uow: UnitOfWork, actor: Actor, request: Request, parameters: PatternParameters) -> Request:
    """``POST /api/requests/mosaic/``: the request with its one ICRS configuration repeated at each pointing of
    the pattern; overlap percentages are measured on the instrument type's detector. The configuration is
    checked against configdb first (errors keyed ``request``), so its defaults are in every copy."""
    require(Action.LIST_OWN, actor)
    errors = mosaic_request_errors(request)
    if errors:
        raise ValidationError(errors)
    with uow:
        observatory = uow.observatory.get()
    checked, problems = check_configuration(request.configurations[0], Catalogue(observatory), actor.is_staff)
    if problems:
        raise ValidationError({"request": {"configurations": [problems]}})
    detector = DetectorField.of(observatory, checked.instrument_type)
    return mosaic_request(evolve(request, configurations=[checked]), parameters, detector)

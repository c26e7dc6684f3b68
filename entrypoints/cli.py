"""The ``obsnet`` command: serve the web app, upgrade the database, manage users, the observatory, semesters
and proposals."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import click

from adapters.serialization import parse_datetime
from application.commands import (
    AddMember,
    AllocateTime,
    CreateProposal,
    CreateSemester,
    ExpireRequestGroups,
    ImportObservatory,
    ImportTacResult,
)
from application.handlers.accounts import CreateUser
from application.handlers.proposals import find_user
from application.observatory_views import export_observatory
from application.proposal_views import list_proposals, list_semesters
from domain.errors import ConflictError, DomainError, NotFoundError, ValidationError
from domain.permissions import Actor
from domain.proposals import UNLIMITED, limit_from_hours
from entrypoints.config import DEFAULT_DATABASE_URL, MEMORY, Settings
from entrypoints.container import Container, build_container, upgrade_database
from entrypoints.tac_file import TacFileError, read_tac_file

F = TypeVar("F", bound=Callable[..., Any])

database_option = click.option(
    "--database-url",
    envvar="OBSNET_DATABASE_URL",
    default=DEFAULT_DATABASE_URL,
    show_default=True,
    help="SQLAlchemy URL (sqlite:///file or postgresql://...), or 'memory' for a throwaway in-process store.",
)


def user_errors(func: F) -> F:
    """Turn the errors a user can cause into one clear line and exit status 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ValidationError as error:
            for message in error.messages():
                click.echo(f"error: {message}", err=True)
            sys.exit(1)
        except (NotFoundError, ConflictError, DomainError) as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)
        except OSError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature


def open_container(database_url: str) -> Container:
    """A container on an upgraded database."""
    try:
        settings = Settings.from_env(database_url=database_url)
    except ValueError as error:  # a malformed OBSNET_* variable
        raise click.ClickException(f"bad setting: {error}") from None
    container = build_container(settings)
    try:
        upgrade_database(container)
    except Exception as error:  # the URL or the server is wrong: say so instead of a traceback
        raise click.ClickException(f"cannot open the database {database_url!r}: {error}") from None
    return container


@click.group()
@click.version_option(package_name="obsnet")
def main() -> None:
    """obsnet: observatory configuration, downtime and observation portal, compatible with the LCO OCS API."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Server processes.")
@click.option("--demo", is_flag=True, help="Load the demo observatory, demo users and downtimes first.")
@database_option
@user_errors
def serve(host: str, port: int, workers: int, demo: bool, database_url: str) -> None:
    """Serve every component over HTTP (configdb, downtime, portal API)."""
    import uvicorn

    if database_url == MEMORY and workers > 1:
        raise click.UsageError("--workers > 1 needs a shared database; the memory store lives in one process")
    container = open_container(database_url)
    if demo:
        from entrypoints.demo import load_demo

        for line in load_demo(container):
            click.echo(line)
    base = f"http://{host}:{port}"
    click.echo(f"obsnet serving {base}/configdb/ {base}/downtime/api/ {base}/api/  (OpenAPI: {base}/schema/)")
    if database_url == MEMORY:
        # The memory store lives in this process, so the app must be built here, not imported by a worker.
        from entrypoints.http.app import create_app

        uvicorn.run(create_app(container), host=host, port=port, log_level="warning")
        return
    os.environ["OBSNET_DATABASE_URL"] = database_url
    uvicorn.run("entrypoints.http.asgi:app", host=host, port=port, workers=workers, log_level="warning")


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@database_option
@user_errors
def db_upgrade(database_url: str) -> None:
    """Create or migrate the database schema to the newest version."""
    open_container(database_url)
    click.echo(f"database {database_url} is at the newest schema version")


@main.group()
def observatory() -> None:
    """The observatory configuration as one JSON document."""


@observatory.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--replace", is_flag=True, help="Also delete what the file does not mention.")
@click.option("--dry-run", is_flag=True, help="Print what would change and write nothing.")
@database_option
@user_errors
def observatory_import(file: Any, replace: bool, dry_run: bool, database_url: str) -> None:
    """Load a whole observatory document, all or nothing (upserts by code; --replace deletes the rest)."""
    try:
        document = json.load(file)
    except json.JSONDecodeError as error:
        raise click.ClickException(f"{file.name} is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise click.ClickException(f"{file.name} is not an observatory document (expected a JSON object)")
    container = open_container(database_url)
    click.echo(f"checking {file.name} ...", err=True)
    plan = container.bus().handle(ImportObservatory(document, replace=replace, dry_run=dry_run, actor="cli"))
    for kind in sorted(set(plan.created) | set(plan.updated) | set(plan.deleted)):
        counts = (plan.created.get(kind, 0), plan.updated.get(kind, 0), plan.deleted.get(kind, 0))
        if any(counts):
            click.echo("  {:<28} created {:>4}  updated {:>4}  deleted {:>4}".format(kind, *counts), err=True)
    click.echo(f"{'dry run, nothing written: would have ' if dry_run else ''}{plan.summary()}", err=True)


@observatory.command("export")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="File (default stdout).")
@database_option
@user_errors
def observatory_export(output: Any, database_url: str) -> None:
    """Write the whole configuration as one observatory document."""
    container = open_container(database_url)
    document = export_observatory(container.uow_factory()())
    json.dump(document, output, indent=1)
    output.write("\n")
    click.echo(
        f"exported {len(document['sites'])} sites and {len(document['instrument_types'])} instrument types", err=True
    )


@main.group()
def users() -> None:
    """User accounts."""


@users.command("create")
@click.argument("username")
@click.option("--staff", is_flag=True, help="Observatory staff: may change configdb and downtimes.")
@click.option("--staff-view", is_flag=True, help="Staff who see every proposal's data (needs --staff).")
@click.option("--email", default="", help="Email address (login also accepts it).")
@click.option("--first-name", default="", help="Given name, shown as a proposal's PI.")
@click.option("--last-name", default="", help="Family name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
@database_option
@user_errors
def users_create(
    username: str,
    staff: bool,
    staff_view: bool,
    email: str,
    first_name: str,
    last_name: str,
    password_stdin: bool,
    database_url: str,
) -> None:
    """Create a user; the password is asked for at a prompt unless --password-stdin is given."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    container = open_container(database_url)
    user = container.bus().handle(
        CreateUser(
            username,
            password,
            email=email,
            is_staff=staff,
            first_name=first_name,
            last_name=last_name,
            staff_view=staff_view,
        )
    )
    kind = "staff (staff view) " if staff_view else "staff " if user.is_staff else ""
    click.echo(f"created {kind}user {user.username} (id {user.id})")


# ---------------------------------------------------------------------------------------------------------
# Semesters and proposals: the administrator's tools, run as the operator (staff with staff view)


def _when(value: str, option: str) -> datetime:
    """An ISO date or datetime from the command line; naive means UTC."""
    try:
        return parse_datetime(value)
    except ValueError as error:
        raise ValidationError.on(option, f"{value!r}: {error}") from None


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _hours_text(hours: float) -> str:
    return f"{hours:g} h"


@main.group()
def semesters() -> None:
    """Semesters: the periods time is allocated in (LCO: A = Feb 1 - Aug 1, B = Aug 1 - Feb 1)."""


@semesters.command("create")
@click.argument("semester_id", metavar="ID")
@click.option("--start", required=True, help="ISO date or datetime (naive means UTC), e.g. 2027-02-01.")
@click.option("--end", required=True, help="ISO date or datetime; semesters may touch but never overlap.")
@database_option
@user_errors
def semesters_create(semester_id: str, start: str, end: str, database_url: str) -> None:
    """Create a semester."""
    begins, ends = _when(start, "start"), _when(end, "end")
    container = open_container(database_url)
    semester = container.bus().handle(CreateSemester(Actor.operator(), semester_id, begins, ends))
    click.echo(f"created semester {semester.id}: {_iso(semester.start)} to {_iso(semester.end)}")


@semesters.command("list")
@database_option
@user_errors
def semesters_list(database_url: str) -> None:
    """Every semester, newest first; the current one is marked with *."""
    container = open_container(database_url)
    found = list_semesters(container.uow_factory()())
    now = container.clock().now()
    for view in found:
        current = "*" if view["start"] <= now <= view["end"] else " "
        click.echo(f"{current} {view['id']:<12} {_iso(view['start'])}  {_iso(view['end'])}")
    click.echo(f"{len(found)} semester{'' if len(found) == 1 else 's'}", err=True)


@main.group()
def proposals() -> None:
    """Proposals, their members and time allocations."""


@proposals.command("create")
@click.argument("proposal_id", metavar="ID")
@click.option("--pi", "pis", multiple=True, required=True, help="PI's username or email; repeat for several PIs.")
@click.option("--title", default=None, help="Up to 255 characters.")
@click.option("--abstract", default=None)
@click.option("--tac-priority", type=int, default=None, help="The scheduler's priority (>= 0).")
@click.option("--tac-rank", type=int, default=None, help="Rank given by the TAC (>= 0).")
@click.option("--public", is_flag=True, help="Anyone may read its requests and observations.")
@click.option("--inactive", is_flag=True, help="Members cannot submit yet.")
@click.option("--non-science", is_flag=True, help="Hidden from the public semester listing.")
@click.option("--direct-submission", is_flag=True, help="Members may submit DIRECT observations.")
@click.option("--tag", "tags", multiple=True, help="A free label; repeat for several.")
@database_option
@user_errors
def proposals_create(
    proposal_id: str,
    pis: tuple[str, ...],
    title: str | None,
    abstract: str | None,
    tac_priority: int | None,
    tac_rank: int | None,
    public: bool,
    inactive: bool,
    non_science: bool,
    direct_submission: bool,
    tags: tuple[str, ...],
    database_url: str,
) -> None:
    """Create a proposal led by existing users."""
    given = {"title": title, "abstract": abstract, "tac_priority": tac_priority, "tac_rank": tac_rank}
    values: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
    values.update(public=public, active=not inactive, non_science=non_science, direct_submission=direct_submission)
    if tags:
        values["tags"] = list(tags)
    container = open_container(database_url)
    proposal = container.bus().handle(CreateProposal(Actor.operator(), proposal_id, values, pis))
    state = "active" if proposal.active else "inactive"
    click.echo(f"created {state} proposal {proposal.id} led by {', '.join(pis)}")


@proposals.command("allocate")
@click.argument("proposal_id", metavar="PROPOSAL")
@click.argument("semester_id", metavar="SEMESTER")
@click.option(
    "--instrument-type",
    "instrument_types",
    multiple=True,
    required=True,
    help="Instrument type code; repeat to let several types share the pool.",
)
@click.option("--std", type=float, default=None, help="Hours for NORMAL observations.")
@click.option("--rr", type=float, default=None, help="Hours for RAPID_RESPONSE observations.")
@click.option("--tc", type=float, default=None, help="Hours for TIME_CRITICAL observations.")
@click.option("--realtime", type=float, default=None, help="Hours for REAL_TIME sessions.")
@click.option("--ipp-limit", type=float, default=None, help="Cap on banked IPP hours (default: 10 % of std).")
@click.option("--ipp-available", type=float, default=None, help="IPP balance in hours (default: 5 % of std).")
@database_option
@user_errors
def proposals_allocate(
    proposal_id: str,
    semester_id: str,
    instrument_types: tuple[str, ...],
    std: float | None,
    rr: float | None,
    tc: float | None,
    realtime: float | None,
    ipp_limit: float | None,
    ipp_available: float | None,
    database_url: str,
) -> None:
    """Give a proposal hours in a semester on a set of instrument types."""
    given = {
        "std_allocation": std,
        "rr_allocation": rr,
        "tc_allocation": tc,
        "realtime_allocation": realtime,
        "ipp_limit": ipp_limit,
        "ipp_time_available": ipp_available,
    }
    # Omitted IPP values are left out so that the domain's defaults (a share of std) apply.
    hours = {name: value for name, value in given.items() if value is not None}
    container = open_container(database_url)
    allocation = container.bus().handle(
        AllocateTime(Actor.operator(), proposal_id, semester_id, instrument_types, hours)
    )
    pools = ", ".join(
        f"{label} {_hours_text(getattr(allocation, name))}"
        for label, name in (
            ("std", "std_allocation"),
            ("rr", "rr_allocation"),
            ("tc", "tc_allocation"),
            ("realtime", "realtime_allocation"),
            ("IPP limit", "ipp_limit"),
            ("IPP available", "ipp_time_available"),
        )
    )
    click.echo(
        f"allocated {proposal_id} in {allocation.semester_id} on {'+'.join(allocation.instrument_types)}: {pools}"
    )


@proposals.command("add-member")
@click.argument("proposal_id", metavar="PROPOSAL")
@click.argument("user", metavar="USER_OR_EMAIL")
@click.option("--role", default="CI", show_default=True, help="CI or PI (an existing member changes role).")
@click.option(
    "--time-limit-hours", type=float, default=None, help="A CI's limit in hours (negative or omitted: unlimited)."
)
@database_option
@user_errors
def proposals_add_member(
    proposal_id: str, user: str, role: str, time_limit_hours: float | None, database_url: str
) -> None:
    """Make an existing user a member of a proposal (staff tool; PIs invite CIs through the API)."""
    limit_s = UNLIMITED if time_limit_hours is None else limit_from_hours(time_limit_hours)
    container = open_container(database_url)
    proposal = container.bus().handle(AddMember(Actor.operator(), proposal_id, user, role, limit_s))
    with container.uow_factory()() as uow:
        found = find_user(uow, user)
    membership = proposal.membership_of(found.id if found else None)
    if membership is None:  # pragma: no cover - the handler just added it
        raise click.ClickException(f"{user} is not a member of {proposal_id}")
    limit = "unlimited" if membership.time_limit_s < 0 else _hours_text(membership.time_limit_s / 3600)
    click.echo(f"{user} is {membership.role.value} of {proposal.id} (time limit {limit})")


@proposals.command("list")
@database_option
@user_errors
def proposals_list(database_url: str) -> None:
    """Every proposal with its PIs and the semesters it has time in."""
    container = open_container(database_url)
    found = sorted(list_proposals(container.uow_factory()(), Actor.operator()), key=lambda v: v["id"])
    for view in found:
        pis = ",".join(pi["username"] for pi in view["pis"]) or "-"
        semesters_with_time = sorted({a["semester"] for a in view["timeallocation_set"]})
        allocations = len(view["timeallocation_set"])
        click.echo(
            f"{view['id']:<20} {'active' if view['active'] else 'inactive':<8} PI {pis:<16} "
            f"{allocations} allocation{'' if allocations == 1 else 's'}"
            f"{' in ' + ', '.join(semesters_with_time) if semesters_with_time else ''}  {view['title']}"
        )
    click.echo(f"{len(found)} proposal{'' if len(found) == 1 else 's'}", err=True)


@proposals.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--dry-run", is_flag=True, help="Check the whole file against the database and write nothing.")
@database_option
@user_errors
def proposals_import(file: Any, dry_run: bool, database_url: str) -> None:
    """Load a TAC result, all or nothing: JSON (a list of proposal entries with allocations) or CSV (one row
    per allocation; columns id, pi, title, ..., semester, instrument_types, std_allocation, ...)."""
    try:
        text = file.read()
    except UnicodeDecodeError as error:
        click.echo(f"error: {file.name} is not UTF-8 text: {error}", err=True)
        sys.exit(1)
    try:
        parsed = read_tac_file(file.name, text)
    except TacFileError as error:
        for message in error.messages:
            click.echo(f"error: {file.name}: {message}", err=True)
        click.echo(f"nothing imported: {len(error.messages)} problem(s) in {file.name}", err=True)
        sys.exit(1)
    container = open_container(database_url)
    click.echo(f"checking {len(parsed.entries)} proposals from {file.name} ...", err=True)
    try:
        counts = container.bus().handle(ImportTacResult(Actor.operator(), parsed.entries, dry_run=dry_run))
    except ValidationError as error:
        problems = 0
        for key, errors in error.errors.items():
            origin, proposal_id = key, ""
            number = key.removeprefix("entry ")
            if number.isdigit() and 0 < int(number) <= len(parsed.entries):
                origin = parsed.origins[int(number) - 1]
                proposal_id = f" (proposal {parsed.entries[int(number) - 1].get('id', '')})"
            inner = errors if isinstance(errors, dict) else {key: errors}
            for message in ValidationError(inner).messages():
                click.echo(f"error: {file.name}, {origin}{proposal_id}: {message}", err=True)
                problems += 1
        click.echo(f"nothing imported: {problems} problem(s) in {file.name}", err=True)
        sys.exit(1)
    summary = ", ".join(f"{name} {count}" for name, count in counts.items())
    click.echo(f"{'dry run, nothing written: would have ' if dry_run else ''}imported {file.name}: {summary}")


@main.group()
def jobs() -> None:
    """Batch jobs the server's operators run on a schedule (cron, a systemd timer)."""


@jobs.command("expire")
@database_option
@user_errors
def jobs_expire(database_url: str) -> None:
    """Mark requests whose last window has ended WINDOW_EXPIRED, crediting back the IPP they had spent."""
    container = open_container(database_url)
    expired = container.bus().handle(ExpireRequestGroups())
    click.echo(f"expired {expired} request{'' if expired == 1 else 's'} whose windows have ended")


if __name__ == "__main__":
    main()

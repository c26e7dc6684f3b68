"""The ``obsnet`` command: serve the web app, upgrade the database, manage users and the observatory."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from application.commands import ImportObservatory
from application.handlers.accounts import CreateUser
from application.observatory_views import export_observatory
from domain.errors import ConflictError, DomainError, NotFoundError, ValidationError
from entrypoints.config import DEFAULT_DATABASE_URL, MEMORY, Settings
from entrypoints.container import Container, build_container, upgrade_database

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
    container = build_container(Settings.from_env(database_url=database_url))
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
@click.option("--email", default="", help="Email address (login also accepts it).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
@database_option
@user_errors
def users_create(username: str, staff: bool, email: str, password_stdin: bool, database_url: str) -> None:
    """Create a user; the password is asked for at a prompt unless --password-stdin is given."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    container = open_container(database_url)
    user = container.bus().handle(CreateUser(username, password, email=email, is_staff=staff))
    click.echo(f"created {'staff ' if user.is_staff else ''}user {user.username} (id {user.id})")


if __name__ == "__main__":
    main()

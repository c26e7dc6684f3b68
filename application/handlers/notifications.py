"""Emails to a proposal's members when their requests finish (requests.md 6.1): a group COMPLETED, or a request
that reached its failure limit. Members choose with their profile's ``notifications_enabled``, and
``notifications_on_authored_only`` narrows it to the groups they submitted themselves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from application.ports import Mailer, UnitOfWork
from domain.accounts import User
from domain.requestgroups import RequestGroup, RequestGroupStateChanged, RequestState, RequestStateChanged


def _recipients(uow: UnitOfWork, group: RequestGroup) -> list[User]:
    proposal = uow.proposals.get(group.proposal)
    if proposal is None:
        return []
    users = uow.users.get_many(m.user_id for m in proposal.memberships)
    return [
        user
        for user in users.values()
        if user.notifications_enabled
        and user.email
        and (not user.notifications_on_authored_only or user.username == group.submitter)
    ]


def _mail_members(group_id: int | None, uow: UnitOfWork, mailer: Mailer, subject: str, body: str) -> None:
    """Send one message to every member of the group's proposal who asked for it; ``{name}``, ``{id}``,
    ``{proposal}`` and ``{submitter}`` in the texts name the group."""
    if group_id is None:
        return
    with uow:
        group = uow.request_groups.get(group_id)
        if group is None:
            return
        recipients = _recipients(uow, group)
    names = {"name": group.name, "id": group.id, "proposal": group.proposal, "submitter": group.submitter}
    for user in recipients:
        mailer.send(user.email, subject.format(**names), body.format(**names))


def notify_group_completed(event: RequestGroupStateChanged, uow: UnitOfWork, mailer: Mailer) -> None:
    """A group of the members' proposal has completed."""
    if event.new is RequestState.COMPLETED:
        _mail_members(
            event.group_id,
            uow,
            mailer,
            "Request group {name} has completed",
            "The request group {name} (id {id}) of proposal {proposal}, submitted by {submitter}, has completed. "
            "Its data will appear in the science archive.",
        )


def notify_failure_limit(event: RequestStateChanged, uow: UnitOfWork, mailer: Mailer) -> None:
    """A request failed as often as the observatory allows and will not be tried again."""
    if event.new is RequestState.FAILURE_LIMIT_REACHED:
        _mail_members(
            event.group_id,
            uow,
            mailer,
            f"Request {event.request_id} of {{name}} reached its failure limit",
            f"The request {event.request_id} of request group {{name}} (proposal {{proposal}}) failed as many times "
            "as the observatory allows and will not be scheduled again. Submit it anew to try again.",
        )


EVENT_HANDLERS: dict[type, list[Callable[..., Any]]] = {
    RequestGroupStateChanged: [notify_group_completed],
    RequestStateChanged: [notify_failure_limit],
}

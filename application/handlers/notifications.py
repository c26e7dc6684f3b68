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


def notify_group_completed(event: RequestGroupStateChanged, uow: UnitOfWork, mailer: Mailer) -> None:
    """A group of the members' proposal has completed."""
    if event.new is not RequestState.COMPLETED or event.group_id is None:
        return
    with uow:
        group = uow.request_groups.get(event.group_id)
        if group is None:
            return
        recipients = _recipients(uow, group)
    for user in recipients:
        mailer.send(
            user.email,
            f"Request group {group.name} has completed",
            f"The request group {group.name} (id {group.id}) of proposal {group.proposal}, submitted by "
            f"{group.submitter}, has completed. Its data will appear in the science archive.",
        )


def notify_failure_limit(event: RequestStateChanged, uow: UnitOfWork, mailer: Mailer) -> None:
    """A request failed as often as the observatory allows and will not be tried again."""
    if event.new is not RequestState.FAILURE_LIMIT_REACHED or event.group_id is None:
        return
    with uow:
        group = uow.request_groups.get(event.group_id)
        if group is None:
            return
        recipients = _recipients(uow, group)
    for user in recipients:
        mailer.send(
            user.email,
            f"Request {event.request_id} of {group.name} reached its failure limit",
            f"The request {event.request_id} of request group {group.name} (proposal {group.proposal}) failed as "
            "many times as the observatory allows and will not be scheduled again. Submit it anew to try again.",
        )


EVENT_HANDLERS: dict[type, list[Callable[..., Any]]] = {
    RequestGroupStateChanged: [notify_group_completed],
    RequestStateChanged: [notify_failure_limit],
}

"""Mailers: where invitation and notification emails go."""

from __future__ import annotations

import logging

from application.ports import Mailer

logger = logging.getLogger("obsnet.mail")


class LoggingMailer(Mailer):
    """Writes each message to the log instead of sending it: the default until an SMTP relay is configured."""

    def send(self, to: str, subject: str, body: str) -> None:
        logger.info("mail to %s: %s\n%s", to, subject, body)

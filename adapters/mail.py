"""Mailers: where invitation and notification emails go."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from application.ports import Mailer

logger = logging.getLogger("obsnet.mail")


class LoggingMailer(Mailer):
    """Writes each message to the log instead of sending it: the default until an SMTP relay is configured."""

    def send(self, to: str, subject: str, body: str) -> None:
        logger.info("mail to %s: %s\n%s", to, subject, body)


class SmtpMailer(Mailer):
    """Sends each message through an SMTP relay, one connection per message (emails here are rare: invitations,
    completions). A relay that refuses or cannot be reached is logged, never raised: the email is a courtesy and
    the change that caused it has already been committed."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str = "",
        password: str = "",
        starttls: bool = False,
        ssl: bool = False,
        timeout_s: float = 10.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password = username, password
        self.starttls, self.ssl, self.timeout_s = starttls, ssl, timeout_s

    @classmethod
    def from_url(cls, url: str, sender: str) -> SmtpMailer:
        """From ``smtp://[user:password@]host[:port][?starttls=1]`` or ``smtps://...`` (implicit TLS)."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"bad SMTP URL {url!r}: expected smtp://[user:password@]host[:port][?starttls=1]")
        ssl = parts.scheme == "smtps"
        starttls = parse_qs(parts.query).get("starttls", ["0"])[-1].lower() in ("1", "true", "yes")
        return cls(
            parts.hostname,
            parts.port or (465 if ssl else 25),
            sender,
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            starttls=starttls,
            ssl=ssl,
        )

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(body)
        client_class = smtplib.SMTP_SSL if self.ssl else smtplib.SMTP
        try:
            with client_class(self.host, self.port, timeout=self.timeout_s) as client:
                if self.starttls:
                    client.starttls()
                if self.username:
                    client.login(self.username, self.password)
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            logger.warning("could not mail %s (%s) through %s:%s: %s", to, subject, self.host, self.port, error)

"""The SMTP mailer against a minimal SMTP server on loopback: the message arrives whole, and a relay that refuses
or is not there costs a log line, not an exception."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes

import pytest

from adapters.mail import SmtpMailer


class TinySmtpServer:
    """Speaks just enough SMTP for one client at a time; ``refuse_recipients`` answers RCPT with 550."""

    def __init__(self, refuse_recipients: bool = False) -> None:
        self.refuse_recipients = refuse_recipients
        self.messages: list[tuple[str, list[str], bytes]] = []
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            with connection, connection.makefile("rb") as lines:
                self._session(connection, lines)

    def _session(self, connection: socket.socket, lines: object) -> None:
        def reply(text: str) -> None:
            connection.sendall(f"{text}\r\n".encode())

        reply("220 tiny ESMTP")
        sender, recipients = "", []
        for raw in lines:  # type: ignore[attr-defined]
            command = raw.decode().strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                reply("250 tiny")
            elif verb == "MAIL":
                sender = command.split(":", 1)[1].strip()
                reply("250 OK")
            elif verb == "RCPT":
                if self.refuse_recipients:
                    reply("550 no such user")
                    continue
                recipients.append(command.split(":", 1)[1].strip())
                reply("250 OK")
            elif verb == "DATA":
                reply("354 go on")
                body = b""
                for data in lines:  # type: ignore[attr-defined]
                    if data in (b".\r\n", b".\n"):
                        break
                    body += data
                self.messages.append((sender, recipients, body))
                reply("250 queued")
            elif verb == "QUIT":
                reply("221 bye")
                return
            else:
                reply("250 OK")

    def close(self) -> None:
        self._socket.close()


@pytest.fixture
def server() -> Iterator[TinySmtpServer]:
    running = TinySmtpServer()
    yield running
    running.close()


def test_a_message_reaches_the_relay_with_sender_recipient_subject_and_body(server: TinySmtpServer) -> None:
    mailer = SmtpMailer.from_url(f"smtp://127.0.0.1:{server.port}", "obsnet@observatory.example")
    mailer.send("pi@example.org", "Request group test group has completed", "Its data will appear soon.")
    ((sender, recipients, raw),) = server.messages
    assert (sender, recipients) == ("<obsnet@observatory.example>", ["<pi@example.org>"])
    message = message_from_bytes(raw)
    assert message["Subject"] == "Request group test group has completed"
    assert message["To"] == "pi@example.org"
    assert message.get_payload(decode=True).decode().strip() == "Its data will appear soon."  # type: ignore[union-attr]


def test_a_refusing_relay_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    refusing = TinySmtpServer(refuse_recipients=True)
    try:
        SmtpMailer("127.0.0.1", refusing.port, "obsnet@observatory.example").send("x@example.org", "s", "b")
    finally:
        refusing.close()
    assert refusing.messages == []
    assert "could not mail x@example.org" in caplog.text


def test_an_unreachable_relay_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        free_port = probe.getsockname()[1]
    SmtpMailer("127.0.0.1", free_port, "obsnet@observatory.example", timeout_s=2).send("x@example.org", "s", "b")
    assert "could not mail x@example.org" in caplog.text


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://relay.example", ("relay.example", 25, "", "", False, False)),
        ("smtp://u%40x:p%3Aw@relay.example:587?starttls=1", ("relay.example", 587, "u@x", "p:w", True, False)),
        ("smtps://relay.example", ("relay.example", 465, "", "", False, True)),
    ],
)
def test_smtp_urls_give_host_port_credentials_and_tls(url: str, expected: tuple[object, ...]) -> None:
    mailer = SmtpMailer.from_url(url, "obsnet@x")
    assert (mailer.host, mailer.port, mailer.username, mailer.password, mailer.starttls, mailer.ssl) == expected


@pytest.mark.parametrize("url", ["http://relay.example", "smtp://", "relay.example:25"])
def test_other_urls_are_refused_with_the_expected_form(url: str) -> None:
    with pytest.raises(ValueError, match="expected smtp://"):
        SmtpMailer.from_url(url, "obsnet@x")

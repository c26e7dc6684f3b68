"""Settings read from OBSNET_* variables, and the adapters the container builds from them."""

from __future__ import annotations

import pytest

from adapters.mail import LoggingMailer, SmtpMailer
from entrypoints.config import Settings
from entrypoints.container import build_container


def test_without_an_smtp_url_mail_goes_to_the_log() -> None:
    assert isinstance(build_container(Settings(database_url="memory")).mailer(), LoggingMailer)


def test_an_smtp_url_and_sender_from_the_environment_give_an_smtp_mailer() -> None:
    env = {"OBSNET_SMTP_URL": "smtp://relay.example:587?starttls=1", "OBSNET_MAIL_FROM": "portal@obs.example"}
    mailer = build_container(Settings.from_env(env, database_url="memory")).mailer()
    assert isinstance(mailer, SmtpMailer)
    assert (mailer.host, mailer.port, mailer.starttls, mailer.sender) == (
        "relay.example",
        587,
        True,
        "portal@obs.example",
    )


def test_a_malformed_smtp_url_is_refused_when_the_settings_are_read() -> None:
    with pytest.raises(ValueError, match=r"bad SMTP URL 'relay\.example'"):
        Settings.from_env({"OBSNET_SMTP_URL": "relay.example"})


def test_a_negative_failure_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="max_failures_per_request must be 0 or more"):
        Settings.from_env({"OBSNET_MAX_FAILURES_PER_REQUEST": "-1"})

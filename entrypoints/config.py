"""Settings of an obsnet process, from command-line options and OBSNET_* environment variables."""

from __future__ import annotations

import os
import re

from attrs import Attribute, Factory, field, fields_dict, frozen

from adapters.mail import SmtpMailer

DEFAULT_DATABASE_URL = "sqlite:///obsnet.sqlite3"
MEMORY = "memory"

# DRF's spelling of a rate: only the first letter of the period counts ("5000/day", "10/min", "3/d").
_RATE = re.compile(r"(\d+)/([smhd])[a-z]*", re.ASCII)
_PERIOD_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"5000/day"`` as ``(5000, 86400)``: calls allowed, and the period they are counted over in seconds."""
    match = _RATE.fullmatch(rate.strip())
    if match is None or int(match[1]) == 0:
        raise ValueError(f"bad throttle rate {rate!r}: expected <calls>/<second|minute|hour|day>, e.g. 5000/day")
    return int(match[1]), _PERIOD_S[match[2]]


def _valid_rate(_: object, __: object, rate: str) -> None:
    parse_rate(rate)


@frozen
class ThrottleRates:
    """How many calls of each throttled kind one caller (a user, or an IP address when anonymous) may make per
    period (api.md rule 20), each counted on its own."""

    create: str = field(default="5000/day", validator=_valid_rate)
    cancel: str = field(default="2000/day", validator=_valid_rate)
    validate: str = field(default="20000/day", validator=_valid_rate)

    @classmethod
    def parse(cls, text: str) -> ThrottleRates:
        """Rates from ``"create=5000/day,cancel=2000/day,validate=20000/day"``; kinds left out keep their
        defaults."""
        rates: dict[str, str] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            scope, equals, rate = item.partition("=")
            if not equals or scope.strip() not in fields_dict(cls):
                raise ValueError(f"bad throttle rate {item!r}: expected <create|cancel|validate>=<calls>/<period>")
            rates[scope.strip()] = rate.strip()
        return cls(**rates)

    def of(self, scope: str) -> tuple[int, int]:
        """The calls allowed for ``scope`` (create, cancel or validate) and their period in seconds."""
        if scope not in fields_dict(type(self)):
            raise KeyError(scope)
        return parse_rate(getattr(self, scope))


def _not_negative(_: object, attribute: Attribute[int], value: int) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be 0 or more, not {value}")


def _smtp_url(_: object, __: Attribute[str], value: str) -> None:
    if value:
        SmtpMailer.from_url(value, "")  # raises ValueError naming the expected form


@frozen
class Settings:
    """Everything an obsnet process needs to know to build its adapters."""

    # "memory" keeps everything in the process (demos and tests); otherwise an SQLAlchemy URL.
    database_url: str = DEFAULT_DATABASE_URL
    # Requests that take longer are answered 503 so that a stuck query cannot hold a client forever.
    request_timeout_s: float = 30.0
    # Lowered only by tests: argon2's default cost makes each hash take tens of milliseconds.
    password_hash_time_cost: int | None = None
    # Lowered by tests to see a throttle bite without thousands of calls.
    throttle_rates: ThrottleRates = Factory(ThrottleRates)
    # FAILED observations after which a request becomes FAILURE_LIMIT_REACHED (requests.md 6.4); 0 never gives up.
    max_failures_per_request: int = field(default=0, validator=_not_negative)
    # Where invitation and notification emails go: smtp://[user:password@]host[:port][?starttls=1] or smtps://...;
    # empty writes them to the log instead.
    smtp_url: str = field(default="", validator=_smtp_url)
    mail_from: str = "obsnet@localhost"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from OBSNET_DATABASE_URL, OBSNET_REQUEST_TIMEOUT_S, OBSNET_PASSWORD_HASH_TIME_COST,
        OBSNET_THROTTLE_RATES (``create=5000/day,cancel=2000/day,validate=20000/day``),
        OBSNET_MAX_FAILURES_PER_REQUEST, OBSNET_SMTP_URL and OBSNET_MAIL_FROM, then explicit overrides."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if env.get("OBSNET_DATABASE_URL"):
            values["database_url"] = env["OBSNET_DATABASE_URL"]
        if env.get("OBSNET_REQUEST_TIMEOUT_S"):
            values["request_timeout_s"] = float(env["OBSNET_REQUEST_TIMEOUT_S"])
        if env.get("OBSNET_PASSWORD_HASH_TIME_COST"):
            values["password_hash_time_cost"] = int(env["OBSNET_PASSWORD_HASH_TIME_COST"])
        if env.get("OBSNET_THROTTLE_RATES"):
            values["throttle_rates"] = ThrottleRates.parse(env["OBSNET_THROTTLE_RATES"])
        if env.get("OBSNET_MAX_FAILURES_PER_REQUEST"):
            values["max_failures_per_request"] = int(env["OBSNET_MAX_FAILURES_PER_REQUEST"])
        for name in ("smtp_url", "mail_from"):
            if env.get(f"OBSNET_{name.upper()}"):
                values[name] = env[f"OBSNET_{name.upper()}"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]  # values come from the typed fields above

"""Settings of an obsnet process, from command-line options and OBSNET_* environment variables."""

from __future__ import annotations

import os

from attrs import frozen

DEFAULT_DATABASE_URL = "sqlite:///obsnet.sqlite3"
MEMORY = "memory"


@frozen
class Settings:
    """Everything an obsnet process needs to know to build its adapters."""

    # "memory" keeps everything in the process (demos and tests); otherwise an SQLAlchemy URL.
    database_url: str = DEFAULT_DATABASE_URL
    # Requests that take longer are answered 503 so that a stuck query cannot hold a client forever.
    request_timeout_s: float = 30.0
    # Lowered only by tests: argon2's default cost makes each hash take tens of milliseconds.
    password_hash_time_cost: int | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from OBSNET_DATABASE_URL, OBSNET_REQUEST_TIMEOUT_S and OBSNET_PASSWORD_HASH_TIME_COST, then
        explicit overrides."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if env.get("OBSNET_DATABASE_URL"):
            values["database_url"] = env["OBSNET_DATABASE_URL"]
        if env.get("OBSNET_REQUEST_TIMEOUT_S"):
            values["request_timeout_s"] = float(env["OBSNET_REQUEST_TIMEOUT_S"])
        if env.get("OBSNET_PASSWORD_HASH_TIME_COST"):
            values["password_hash_time_cost"] = int(env["OBSNET_PASSWORD_HASH_TIME_COST"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]  # values come from the typed fields above

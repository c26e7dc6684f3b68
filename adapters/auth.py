"""Authentication adapters: argon2 password hashing and random API tokens."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError

from application.ports import PasswordHasher, TokenIssuer


class Argon2PasswordHasher(PasswordHasher):
    """argon2id with the library's recommended parameters; the hash string carries its own salt and settings."""

    def __init__(self, time_cost: int | None = None) -> None:
        # Tests and demos may lower the cost; production keeps the library default.
        self._argon = _Argon2(time_cost=time_cost) if time_cost else _Argon2()

    def hash(self, password: str) -> str:
        return self._argon.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


class SecretsTokenIssuer(TokenIssuer):
    def new_token(self) -> str:
        return secrets.token_hex(20)

"""Passwords: the policy a new one must meet, and argon2id hashes (argon2-cffi).

Only hashes are stored. `burn_time` spends as long as a real check, so a login for an unknown
or locked account takes as long as a wrong password.
"""
from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256

_hasher = PasswordHasher()
_dummy_hash: list[str] = []


def password_problem(password: str, email: str = "") -> str | None:
    """Why a new password is not acceptable, or None."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must have at most {MAX_PASSWORD_LENGTH} characters"
    if email and password.strip().lower() == email.strip().lower():
        return "Password must not be the email address"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Does `password` match the stored hash (False for a broken hash)?"""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def rehashed(stored_hash: str, password: str) -> str:
    """The hash to keep after a good login: a fresh one when the parameters changed."""
    return hash_password(password) if _hasher.check_needs_rehash(stored_hash) else stored_hash


def burn_time(password: str) -> None:
    """Verify against a dummy hash so unknown emails take as long as wrong passwords."""
    if not _dummy_hash:
        _dummy_hash.append(_hasher.hash(secrets.token_hex(16)))
    verify_password(_dummy_hash[0], password)

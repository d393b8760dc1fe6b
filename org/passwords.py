"""Password hashing with Argon2id (argon2-cffi): memory-hard, salted, with rehash on parameter change."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()
MIN_LENGTH = 8


def hash_password(password: str) -> str:
    """Return an Argon2id hash of a password."""
    return _HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Tell whether a password matches a stored hash."""
    if not stored:
        return False
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Tell whether a hash was made with older parameters."""
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True

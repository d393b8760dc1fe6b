"""Password hashing with Argon2id (argon2-cffi): memory-hard, salted, with rehash on parameter change."""
from __future__ import annotations

import os

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# The test suite hashes thousands of demo passwords; it alone may ask for argon2's cheapest profile.
_HASHER = (PasswordHasher.from_parameters(profiles.CHEAPEST)
           if os.environ.get("FLOWDESK_TEST_CHEAP_HASHES") == "1" else PasswordHasher())
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

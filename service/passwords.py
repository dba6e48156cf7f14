"""Password hashing with argon2id, run off the event loop.

Each hash takes 64 MiB and tens of milliseconds of a core, and anyone can ask for one
by trying to sign in: :class:`PasswordChecks` bounds how many run at once per process.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile defaults
# Verified against when the email is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("candor: no such account")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; ``None`` (unknown account) costs the same and is False."""
    return await asyncio.to_thread(_verify, password_hash, password)


class PasswordChecksBusy(Exception):
    """Every password-check slot stayed taken for the whole wait: answer 503, try later."""


class PasswordChecks:
    """At most ``concurrency`` password checks at once in this process.

    A caller past the bound waits at most ``wait_seconds`` for a slot and then gets
    :class:`PasswordChecksBusy`, so a burst of sign-ins cannot queue up memory and CPU
    without limit (nor hold database connections while it queues).
    """

    def __init__(self, concurrency: int, *, wait_seconds: float = 0.5) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._wait = wait_seconds

    async def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            async with asyncio.timeout(self._wait):
                await self._slots.acquire()
        except TimeoutError:
            raise PasswordChecksBusy from None
        # The slot is freed when the hash is done, not when the caller stops waiting
        # (a cancelled request's thread still runs to the end).
        check = asyncio.ensure_future(verify_password(password_hash, password))
        check.add_done_callback(lambda _: self._slots.release())
        return await asyncio.shield(check)

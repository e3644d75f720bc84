"""Channel tokens, kept in the OS keyring and nowhere else.

A token lives in the keyring under service ``comptoir`` and the account's name as the username.
It is never written to SQLite, to the configuration file or to a log, and no message of this
module contains one. An agent who cannot use a keyring (a headless box, a container) can hand the
token over in an environment variable, ``COMPTOIR_TOKEN_<ACCOUNT NAME>`` (upper-cased, other
characters than letters and digits turned into ``_``), which `get_token` reads first.

Every keyring call runs off the event loop with a timeout: the Secret Service backend can block
for ever on a locked collection or a missing D-Bus session. The call runs in a daemon thread of
its own rather than the default executor (``asyncio.to_thread``): a call that hangs can only be
abandoned, not stopped, and an abandoned executor thread would hold up the interpreter's exit
(``asyncio.run`` joins the default executor), while a daemon thread does not. While an abandoned
call is still stuck, later calls fail at once instead of piling up more stuck threads.

Unusable backends (keyring's ``fail`` and ``null`` backends, a plaintext file nobody chose, a
backend that does not answer in time) raise `SecretsUnavailable`, whose message says what happened
and how to proceed. There is no silent fallback to plaintext.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import threading
from collections.abc import Callable, Mapping
from typing import Final, TypeVar

import keyring
import keyring.backend
import keyring.errors

SERVICE: Final = "comptoir"
TIMEOUT: Final = 5.0
ENV_PREFIX: Final = "COMPTOIR_TOKEN_"
ALT_BACKEND: Final = "keyrings.alt.file.EncryptedKeyring"

T = TypeVar("T")

# Threads abandoned after a timeout; while one is alive the keyring is considered stuck.
_stuck: list[threading.Thread] = []


class SecretsError(Exception):
    """Base class: ``str(error)`` is a message for the agent (and never holds a token)."""


class SecretsUnavailable(SecretsError):
    """No usable keyring: what happened, and the ways to proceed."""


class TokenMissing(SecretsError):
    """The keyring works but holds no token for this account (and no variable is set)."""


def env_var(account: str) -> str:
    """The environment variable that may carry the account's token."""
    return ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", account.upper())


def _ways_out(account: str) -> str:
    return (
        "To proceed, either install and unlock a Secret Service (for example gnome-keyring, "
        "or KWallet) in this session; or, if you choose to, name another keyring backend "
        f"explicitly, e.g. PYTHON_KEYRING_BACKEND={ALT_BACKEND} (pip install keyrings.alt; "
        "a password-protected file, your choice, not a default); or provide the token in the "
        f"environment variable {env_var(account)}."
    )


def _unavailable(account: str, what: str) -> SecretsUnavailable:
    return SecretsUnavailable(f"Cannot use the system keyring: {what}. {_ways_out(account)}")


def _backend_name(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _usable_backend(account: str) -> keyring.backend.KeyringBackend:
    """The configured backend, or SecretsUnavailable (runs in the worker thread: may block)."""
    from keyring.backends import fail, null

    backend = keyring.get_keyring()
    name = _backend_name(backend)
    if isinstance(backend, fail.Keyring):
        raise _unavailable(account, "no keyring backend is available (keyring found no Secret "
                                    "Service, KWallet or other store on this system)")
    if isinstance(backend, null.Keyring):
        raise _unavailable(account, "the keyring backend is the null backend, which stores "
                                    "nothing (PYTHON_KEYRING_BACKEND or keyringrc.cfg selects it)")
    if "plaintext" in name.lower() and os.environ.get("PYTHON_KEYRING_BACKEND") != name:
        raise _unavailable(account, f"the keyring backend {name} would store the token in "
                                    "plain text, and it was not chosen explicitly")
    return backend


async def _off_loop(account: str, action: str, fn: Callable[[], T], timeout: float) -> T:
    """Run `fn` in a daemon thread; give up (SecretsUnavailable) after `timeout` seconds."""
    if any(t.is_alive() for t in _stuck):
        raise _unavailable(account, "an earlier keyring call has still not returned (the "
                                    "keyring may be locked and waiting for a password)")
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(ok: bool, value: object) -> None:
        if future.done():
            return
        if ok:
            future.set_result(value)  # type: ignore[arg-type]
        else:
            future.set_exception(value)  # type: ignore[arg-type]

    def work() -> None:
        try:
            result: tuple[bool, object] = (True, fn())
        except BaseException as e:  # handed to the awaiting coroutine, not lost in the thread
            result = (False, e)
        # RuntimeError: the loop closed while we were stuck, so nobody is waiting.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(deliver, *result)

    thread = threading.Thread(target=work, name=f"comptoir-keyring-{action}", daemon=True)
    thread.start()
    try:
        return await asyncio.wait_for(asyncio.shield(future), timeout)
    except TimeoutError:
        _stuck.append(thread)
        _stuck[:] = [t for t in _stuck if t.is_alive()]
        raise _unavailable(
            account, f"the keyring did not answer within {timeout:g} s when asked to {action} "
                     "(a locked keyring waiting for a password, or no D-Bus session)"
        ) from None



def _translate(account: str, error: keyring.errors.KeyringError) -> SecretsUnavailable:
    # Backend messages name the backend and its state, never the secret itself.
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    return _unavailable(account, f"the keyring refused the request ({reason})")


async def backend_name(*, account: str = "ACCOUNT", timeout: float = TIMEOUT) -> str:
    """The usable backend's name (for `comptoir account list`), or SecretsUnavailable."""
    backend = await _off_loop(account, "report its backend",
                              lambda: _usable_backend(account), timeout)
    return _backend_name(backend)


async def set_token(account: str, token: str, *, timeout: float = TIMEOUT) -> None:
    """Store the account's token in the keyring (replacing any older one)."""
    if not token or not token.strip():
        raise SecretsError("an empty token cannot be stored")

    def work() -> None:
        backend = _usable_backend(account)
        try:
            backend.set_password(SERVICE, account, token)
        except keyring.errors.KeyringError as e:
            raise _translate(account, e) from None

    await _off_loop(account, "store a token", work, timeout)


async def get_token(
    account: str, *, timeout: float = TIMEOUT, environ: Mapping[str, str] | None = None
) -> str:
    """The account's token: the environment variable first, then the keyring.

    Raises TokenMissing (nothing stored) or SecretsUnavailable (no usable keyring)."""
    env = os.environ if environ is None else environ
    from_env = env.get(env_var(account))
    if from_env:
        return from_env

    def work() -> str | None:
        backend = _usable_backend(account)
        try:
            return backend.get_password(SERVICE, account)
        except keyring.errors.KeyringError as e:
            raise _translate(account, e) from None

    token = await _off_loop(account, "read a token", work, timeout)
    if not token:
        raise TokenMissing(
            f"no token stored for account {account!r}: run `comptoir account add` for it, or "
            f"set {env_var(account)}"
        )
    return token


async def delete_token(account: str, *, timeout: float = TIMEOUT) -> bool:
    """Remove the account's token from the keyring; False if there was none."""

    def work() -> bool:
        backend = _usable_backend(account)
        try:
            backend.delete_password(SERVICE, account)
        except keyring.errors.PasswordDeleteError:
            return False
        except keyring.errors.KeyringError as e:
            raise _translate(account, e) from None
        return True

    return await _off_loop(account, "delete a token", work, timeout)

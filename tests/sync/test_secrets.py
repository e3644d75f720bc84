"""Tokens in the keyring, off the event loop, with a timeout; unusable backends said plainly."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import keyring
import keyring.backend
import pytest
from keyring.backends import fail, null

from console import secrets
from console.secrets import SecretsError, SecretsUnavailable, TokenMissing
from tests.sync.fakes import MemoryKeyring

TOKEN = "tok-SECRET-123"


class PlaintextKeyring(MemoryKeyring):
    """Named like keyrings.alt.file.PlaintextKeyring."""


class BlockingKeyring(MemoryKeyring):
    """get_password waits until the test releases it (a locked keyring asking for a password)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(30)
        return super().get_password(service, username)


@pytest.fixture(autouse=True)
def restore_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    before = keyring.get_keyring()
    for name in [n for n in __import__("os").environ if n.startswith(secrets.ENV_PREFIX)]:
        monkeypatch.delenv(name)
    yield
    keyring.set_keyring(before)


def test_env_var_name() -> None:
    assert secrets.env_var("x") == "COMPTOIR_TOKEN_X"
    assert secrets.env_var("support-fr.mastodon") == "COMPTOIR_TOKEN_SUPPORT_FR_MASTODON"


async def test_round_trip_in_the_keyring_under_service_comptoir() -> None:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    await secrets.set_token("mastodon", TOKEN)
    assert backend.data == {("comptoir", "mastodon"): TOKEN}
    assert await secrets.get_token("mastodon") == TOKEN
    assert await secrets.delete_token("mastodon") is True
    assert await secrets.delete_token("mastodon") is False
    with pytest.raises(TokenMissing) as info:
        await secrets.get_token("mastodon")
    assert "COMPTOIR_TOKEN_MASTODON" in str(info.value)
    assert await secrets.backend_name() == f"{MemoryKeyring.__module__}.MemoryKeyring"


async def test_environment_variable_comes_first_and_skips_the_keyring(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keyring.set_keyring(fail.Keyring())  # would raise if it were asked
    monkeypatch.setenv("COMPTOIR_TOKEN_X", "from-env")
    assert await secrets.get_token("x") == "from-env"
    assert await secrets.get_token("x", environ={"COMPTOIR_TOKEN_X": "given"}) == "given"


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()], ids=["fail", "null"])
async def test_unusable_backends_say_what_happened_and_how_to_proceed(
    backend: keyring.backend.KeyringBackend,
) -> None:
    keyring.set_keyring(backend)
    for call in (secrets.get_token("x"), secrets.set_token("x", TOKEN),
                 secrets.delete_token("x")):
        with pytest.raises(SecretsUnavailable) as info:
            await call
        message = str(info.value)
        assert "gnome-keyring" in message
        assert "PYTHON_KEYRING_BACKEND=keyrings.alt.file.EncryptedKeyring" in message
        assert "your choice" in message
        assert "COMPTOIR_TOKEN_X" in message
        assert TOKEN not in message
    expected = "null backend" if isinstance(backend, null.Keyring) else "no keyring backend"
    assert expected in message


async def test_plaintext_backend_not_chosen_explicitly_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keyring.set_keyring(PlaintextKeyring())
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    with pytest.raises(SecretsUnavailable, match="plain text"):
        await secrets.set_token("x", TOKEN)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", f"{__name__}.PlaintextKeyring")
    await secrets.set_token("x", TOKEN)  # the user named it: their choice


async def test_empty_token_is_refused() -> None:
    keyring.set_keyring(MemoryKeyring())
    with pytest.raises(SecretsError):
        await secrets.set_token("x", "  ")


async def test_a_hanging_backend_times_out_promptly_and_later_calls_fail_fast() -> None:
    backend = BlockingKeyring()
    keyring.set_keyring(backend)
    try:
        started = time.monotonic()
        with pytest.raises(SecretsUnavailable) as info:
            await secrets.get_token("bluesky", timeout=0.2)
        assert time.monotonic() - started < 2.0
        assert "did not answer within 0.2 s" in str(info.value)
        assert "COMPTOIR_TOKEN_BLUESKY" in str(info.value)
        # The abandoned call is still stuck: the next one does not queue behind it.
        started = time.monotonic()
        with pytest.raises(SecretsUnavailable, match="still not returned"):
            await secrets.get_token("bluesky", timeout=5)
        assert time.monotonic() - started < 1.0
    finally:
        backend.release.set()
        for thread in list(secrets._stuck):
            thread.join(5)
    # Once the keyring answers again, so do we.
    backend.data[("comptoir", "bluesky")] = TOKEN
    assert await secrets.get_token("bluesky", timeout=5) == TOKEN


async def test_the_event_loop_keeps_running_during_a_keyring_call() -> None:
    import asyncio

    backend = BlockingKeyring()
    keyring.set_keyring(backend)
    backend.data[("comptoir", "x")] = TOKEN
    call = asyncio.create_task(secrets.get_token("x", timeout=5))
    ticks = 0
    for _ in range(5):
        await asyncio.sleep(0)
        ticks += 1
    assert not call.done() and ticks == 5
    backend.release.set()
    assert await call == TOKEN

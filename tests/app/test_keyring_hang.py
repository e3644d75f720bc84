"""A keyring that hangs (a locked Secret Service waiting for a password, no D-Bus session) or that
is unusable (keyring's fail backend): the open console stays responsive while the token is being
read, and the status line says why the account does not sync."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import httpx
import keyring
import pytest
from keyring.backends import fail

from console import secrets
from console.app import ComptoirApp
from console.clock import FrozenClock
from console.config import Config
from console.sync.desk import desk_sync_for_accounts
from db.accounts import add_account
from db.store import Store
from tests.sync.fakes import HangingKeyring
from widgets.status_bar import StatusBar

from .conftest import NOW
from .test_workflows import current_id, main, settle

HANG_TIMEOUT = 2.0  # seconds: long enough for the keys below to be handled while it hangs


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[HangingKeyring]:
    previous = keyring.get_keyring()
    hanging = HangingKeyring()
    keyring.set_keyring(hanging)
    monkeypatch.delenv(secrets.env_var("mastodon"), raising=False)
    # The desk reads tokens with the default 5 s timeout; a shorter one keeps the test quick.
    monkeypatch.setattr(secrets, "get_token",
                        functools.partial(secrets.get_token, timeout=HANG_TIMEOUT))
    try:
        yield hanging
    finally:
        hanging.release.set()
        for thread in secrets._stuck:
            thread.join(timeout=5)
        secrets._stuck.clear()
        keyring.set_keyring(previous)


async def desk_app(store: Store, config: Config, clock: FrozenClock,
                   client: httpx.AsyncClient) -> ComptoirApp:
    await add_account(store, channel="mastodon", name="mastodon", handle="@f@s.example",
                      now=NOW, instance_url="https://s.example")

    async def factory() -> object:  # what `comptoir` itself passes the app
        return await desk_sync_for_accounts(store, clock, client, first_reply_sla=3600)

    return ComptoirApp(store, config, clock=clock, heartbeat=None,
                       sync_factory=factory)  # type: ignore[arg-type]


def status_line(app: ComptoirApp) -> str:
    return " | ".join(app.screen.query_one(StatusBar).status.channel_states)


async def test_a_hanging_keyring_leaves_the_console_responsive_and_says_why(
    demo_store: Store, config: Config, clock: FrozenClock, backend: HangingKeyring
) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(500))
    async with httpx.AsyncClient(transport=transport) as client:
        app = await desk_app(demo_store, config, clock, client)
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(3):
                await pilot.pause()
            [sync_worker] = [w for w in app.workers if w.group == "sync"]
            assert backend.entered.wait(timeout=HANG_TIMEOUT)  # the keyring call is stuck...
            first = current_id(app)
            await pilot.press("j", "j", "j")
            await pilot.pause()
            # ...and the agent moved through the queue meanwhile.
            assert current_id(app) != first
            assert not sync_worker.is_finished
            await sync_worker.wait()
            await settle(pilot)
            line = status_line(app)
            assert line.startswith("mastodon: not syncing (Cannot use the system keyring:")
            assert "did not answer within 2 s" in line and "COMPTOIR_TOKEN_MASTODON" in line
            await pilot.press("k")
            await pilot.pause()
            assert main(app).queue.highlighted_row is not None


async def test_the_fail_backend_is_said_in_the_status_line(
    demo_store: Store, config: Config, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    monkeypatch.delenv(secrets.env_var("mastodon"), raising=False)
    transport = httpx.MockTransport(lambda request: httpx.Response(500))
    try:
        async with httpx.AsyncClient(transport=transport) as client:
            app = await desk_app(demo_store, config, clock, client)
            async with app.run_test(size=(120, 40)) as pilot:
                await settle(pilot)
                line = status_line(app)
                assert line.startswith("mastodon: not syncing (Cannot use the system keyring: "
                                       "no keyring backend is available")
                await pilot.press("j")
                await settle(pilot)
                assert main(app).queue.highlighted_row is not None
    finally:
        keyring.set_keyring(previous)

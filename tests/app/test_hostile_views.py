"""The hostile corpus through the views added after the desk: the crisis banner and crisis view
(a spiking hashtag whose posts are hostile), the listening stream, the stats screen (hostile
agent names) and the triage and SLA sections of the detail pane. Same rule as
test_hostile_output: no crash, and no control sequence from the input reaches the terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.app import ComptoirApp
from console.clock import FrozenClock
from console.config import Config
from console.screens.crisis import CrisisScreen
from console.screens.listening import ListeningScreen
from console.screens.stats import StatsScreen
from db.listening import NewWatchResult, add_watch_results
from db.models import NewMention, OutboxState, QueueFilter
from db.store import Store
from tests.hostile import HOSTILE_CORPUS

from .conftest import NOW
from .test_hostile_output import TerminalBytes, foreign_sequences
from .test_workflows import settle

CHUNKS = 4


@pytest.mark.parametrize("chunk", range(CHUNKS))
async def test_hostile_text_in_crisis_listening_and_stats_views(
    chunk: int, tmp_path: Path, config: Config, clock: FrozenClock
) -> None:
    inputs = [text for _name, text in HOSTILE_CORPUS[chunk::CHUNKS]]
    store = await Store.open(tmp_path / "hostile-views.db")
    try:
        # Built first: the app installs the topic counter, triage and SLA planner on the store.
        app = ComptoirApp(store, config, clock=clock, heartbeat=None)
        # One hashtag in every post, all in the last minutes: the hashtag spikes.
        await store.ingest(
            [NewMention(channel="x", remote_id=f"c{i}", author_handle=f"@c{i}",
                        author_name=text[:40], text=f"#PanneTest {text}",
                        created_at=NOW - i % 300)
             for i, text in enumerate(inputs)],
            now=NOW, first_reply_sla=3600,
        )
        await add_watch_results(store, [
            NewWatchResult(channel="mastodon", remote_id=f"w{i}", author_handle=f"@w{i}",
                           author_name=text[:40], text=text, term=text[:20] or "x",
                           at=NOW - i)
            for i, text in enumerate(inputs)
        ], now=NOW)
        rows = await store.queue_window(QueueFilter(), limit=8)
        for i, (row, text) in enumerate(zip(rows, inputs, strict=False)):
            # Hostile agent names in the per-agent stats.
            item = await store.queue_reply(row.id, "ok", author=text[:30] or f"a{i}",
                                           now=NOW - 60)
            await store.set_outbox_state(item.id, OutboxState.SENDING, now=NOW - 50)
            await store.set_outbox_state(item.id, OutboxState.SENT, now=NOW - 40,
                                         remote_id=f"r{i}")

        terminal = TerminalBytes()
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            terminal.capture(app)  # the queue, the banner, the detail with triage and SLA
            for key, screen_type in (("C", CrisisScreen), ("w", ListeningScreen),
                                     ("S", StatsScreen)):
                await pilot.press(key)
                await settle(pilot)
                assert isinstance(app.screen, screen_type), (key, app.screen)
                terminal.capture(app)
                await pilot.press("escape")
                await settle(pilot)
            assert app.is_running
        output = terminal.text
        assert "PanneTest" in output, "the crisis banner did not fire"
        assert foreign_sequences(output) == []
        assert "cm0gLXJmIH4vCg" not in output  # the OSC 52 payload never reaches the terminal
    finally:
        await store.close()

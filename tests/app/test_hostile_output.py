"""Hostile mentions through every place outside text appears, with the bytes Textual writes to
the terminal captured: the app must not crash and no control sequence from the input may reach
the terminal."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from textual.drivers.headless_driver import HeadlessDriver
from textual.pilot import Pilot
from textual.widgets import Select

from console.app import ComptoirApp
from console.clock import FrozenClock
from console.config import Config
from db.models import NewMention, OutboxState
from db.store import Store
from tests.hostile import HOSTILE_INPUTS

from .conftest import NOW
from .test_workflows import current_id, main, settle

# What Textual itself writes: CSI cursor moves, SGR colours and the few private modes it uses
# (synchronized output, cursor visibility). Anything else is a sequence that came from a post.
TEXTUAL_OWN = re.compile(
    r"\x1b\[(?:[0-9;]*[HmABCDGK]|\?(?:2026|25|1049|1000|1003|1006|1015|2004)[hl])"
    r"|\x1b\]22;[a-z-]+\x07"  # OSC 22: Textual sets the mouse pointer shape
)
FORBIDDEN_BYTES = ("\x07", "\x9b", "\x9d", "\x90", "\x9e", "\x9f", "\x98", "\x00")


class TerminalBytes:
    def __init__(self) -> None:
        self.chunks: list[str] = []

    @property
    def text(self) -> str:
        return "".join(self.chunks)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[TerminalBytes]:
    """Make the headless driver behave like a terminal that records what it is sent."""
    captured = TerminalBytes()
    monkeypatch.setattr(HeadlessDriver, "is_headless", property(lambda self: False))
    monkeypatch.setattr(HeadlessDriver, "write", lambda self, data: captured.chunks.append(data))
    monkeypatch.setattr(HeadlessDriver, "flush", lambda self: None, raising=False)
    yield captured


def foreign_sequences(output: str) -> list[str]:
    stripped = TEXTUAL_OWN.sub("", output)
    found = [m.group(0) for m in re.finditer(r"\x1b.{0,12}", stripped, re.DOTALL)]
    found += [repr(byte) for byte in FORBIDDEN_BYTES if byte in stripped]
    return found


CHUNKS = 4  # the corpus is split so the suite's workers share it


async def quick_settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("chunk", range(CHUNKS))
async def test_every_hostile_input_in_every_place(
    demo_store: Store, config: Config, clock: FrozenClock, terminal: TerminalBytes, chunk: int
) -> None:
    inputs = HOSTILE_INPUTS[chunk::CHUNKS]
    ids: list[int] = []
    for index, (name, text) in enumerate(inputs):
        [mention_id] = await demo_store.ingest(
            [NewMention(channel=("x", "mastodon", "bluesky")[index % 3],
                        remote_id=f"hostile-{name}", author_handle=f"h{index}{text[:40]}",
                        author_name=text[:200], text=text, created_at=NOW - 4000 - index)],
            now=NOW, first_reply_sla=3600,
        )
        await demo_store.add_note(mention_id, text, author="camille", now=NOW)
        await demo_store.set_tags(mention_id, [text[:30] or "x"], actor="camille", now=NOW)
        [item] = [await demo_store.queue_reply(mention_id, "reply " + name, author="camille",
                                                now=NOW)]
        # The outbox shows a server's reason literally: make it hostile too.
        await demo_store.set_outbox_state(item.id, OutboxState.SENDING, now=NOW)
        await demo_store.set_outbox_state(item.id, OutboxState.FAILED, now=NOW, error=text)
        await demo_store.save_draft(mention_id, text, None, now=NOW)
        ids.append(mention_id)
    await demo_store.add_template("hostile", "en", "Hi {customer.first_name} {customer.handle}")

    app = ComptoirApp(demo_store, config, clock=clock, heartbeat=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await quick_settle(pilot)
        app.screen.query_one("#f-status", Select).value = "all"
        await pilot.press("ctrl+s")
        await settle(pilot)
        for mention_id in ids:
            # Queue row, detail, thread, outbox reason, customer card, notes, history.
            assert await main(app).show_mention(mention_id), mention_id
            await quick_settle(pilot)
            assert current_id(app) == mention_id
            await pilot.press("r")  # the composer with the hostile draft
            await quick_settle(pilot)
            await pilot.press("t", *"hostile", "enter")  # a template filled with hostile names
            await quick_settle(pilot)
            await pilot.press("escape")
        # The status line shows the search the agent typed, which may be pasted from a post.
        await pilot.press("slash", *"[@click=app.quit]", "enter")
        await settle(pilot)
        assert app.is_running
    output = terminal.text
    assert len(output) > 10_000, "the capture saw no frames"
    assert foreign_sequences(output) == []
    assert "cm0gLXJmIH4vCg" not in output  # the OSC 52 payload never reaches the terminal

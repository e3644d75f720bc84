"""Hostile mentions through every place outside text appears, with the bytes Textual writes to
the terminal captured: the app must not crash and no control sequence from the input may reach
the terminal."""

from __future__ import annotations

import re

import pytest
from textual.pilot import Pilot

from console.app import ComptoirApp
from console.clock import FrozenClock
from console.config import Config
from db.models import NewMention, OutboxState, QueueFilter
from db.store import Store
from tests.hostile import HOSTILE_CORPUS

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
    """What the terminal would receive: full frames rendered the way Textual's driver output is
    (compositor update -> segments -> escape sequences), taken after each step. Rendering the
    frames directly keeps the run headless and fast; a full frame holds every visible cell."""

    def __init__(self) -> None:
        self.frames: list[str] = []

    def capture(self, app: ComptoirApp) -> None:
        update = app.screen._compositor.render_update(full=True, screen_stack=app.screen_stack)
        assert update is not None
        self.frames.append(update.render_segments(app.console))  # type: ignore[union-attr]

    @property
    def text(self) -> str:
        return "".join(self.frames)


@pytest.fixture
def terminal() -> TerminalBytes:
    return TerminalBytes()


def foreign_sequences(output: str) -> list[str]:
    stripped = TEXTUAL_OWN.sub("", output)
    found = [m.group(0) for m in re.finditer(r"\x1b.{0,12}", stripped, re.DOTALL)]
    found += [repr(byte) for byte in FORBIDDEN_BYTES if byte in stripped]
    return found


CHUNKS = 6  # the corpus is split so the suite's workers share it


async def quick_settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("chunk", range(CHUNKS))
async def test_every_hostile_input_in_every_place(
    demo_store: Store, config: Config, clock: FrozenClock, terminal: TerminalBytes, chunk: int
) -> None:
    inputs = HOSTILE_CORPUS[chunk::CHUNKS]
    ids: list[int] = []
    for index, (name, text) in enumerate(inputs):
        [mention_id] = await demo_store.ingest(
            [NewMention(channel=("x", "mastodon", "bluesky")[index % 3],
                        remote_id=f"hostile-{chunk}-{index}", author_handle=f"h{index}{text[:40]}",
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
    template = await demo_store.add_template(
        "hostile", "en", "Hi {customer.first_name} {customer.handle}"
    )

    app = ComptoirApp(demo_store, config, clock=clock, heartbeat=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = main(app)
        # Every lane too: triage may send a hostile post to the spam lane.
        await screen._apply_filter(QueueFilter(status="all", triage="all"))
        for mention_id in ids:
            # Queue row, detail, thread, replies with the server's reason, activity, customer
            # card, notes, history: all on screen once the mention is selected.
            assert await screen.show_mention(mention_id), mention_id
            await quick_settle(pilot)
            assert current_id(app) == mention_id
            terminal.capture(app)
            await screen.action_reply()  # the composer with the hostile draft
            await pilot.pause()
            terminal.capture(app)
            row = screen.queue.highlighted_row
            assert row is not None
            await screen.apply_template(template, row)  # filled with hostile names
            await pilot.pause()
            terminal.capture(app)
        # The keyboard path once: picker, template, notification.
        await pilot.press("t")
        await quick_settle(pilot)
        await pilot.press("enter")
        await quick_settle(pilot)
        terminal.capture(app)
        # The status line shows the search the agent typed, which may be pasted from a post.
        await pilot.press("slash", *"[@click=app.quit]", "enter")
        await settle(pilot)
        terminal.capture(app)
        assert app.is_running
    output = terminal.text
    assert len(output) > 10_000, "the capture saw no frames"
    assert foreign_sequences(output) == []
    assert "cm0gLXJmIH4vCg" not in output  # the OSC 52 payload never reaches the terminal

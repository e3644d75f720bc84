"""The public link of a sent reply in the detail pane's reply list: shown, and shown as text."""

from __future__ import annotations

from textual.app import App, ComposeResult

from db.models import OutboxItem, OutboxState
from widgets.outbox_status import OutboxStatusView, outbox_lines
from widgets.text import untrusted

NOW = 1_767_225_600


def sent(**overrides: object) -> OutboxItem:
    fields: dict[str, object] = {
        "id": 3, "mention_id": 7, "channel": "bluesky", "text": "Merci Zoé !",
        "state": OutboxState.SENT, "author": "alice", "remote_id": "at://did:plc:me/p/3lb",
        "error": None, "idempotency_key": "k3", "attempts": 1, "created_at": NOW,
        "updated_at": NOW, "remote_key": "3lb",
        "remote_url": "https://bsky.app/profile/comptoir.bsky.social/post/3lb",
    }
    fields.update(overrides)
    return OutboxItem(**fields)  # type: ignore[arg-type]


def test_sent_reply_shows_its_link_instead_of_the_id() -> None:
    text = "\n".join(line.plain for line in outbox_lines(sent()))
    assert "  link https://bsky.app/profile/comptoir.bsky.social/post/3lb" in text
    assert "at://did:plc:me" not in text
    # Without a link (older rows, a channel that gave none) the id is still shown.
    text = "\n".join(line.plain for line in outbox_lines(sent(remote_url=None)))
    assert "  id at://did:plc:me/p/3lb" in text


def test_link_from_the_channel_is_untrusted_text() -> None:
    hostile = "https://x.com/a/status/1[/]\x1b]52;c;cm0gLXJmIH4=\x07[@click=app.quit]go[/]"
    lines = outbox_lines(sent(remote_url=hostile))
    link = next(line for line in lines if line.plain.startswith("  link "))
    assert "\x1b" not in link.plain and "\x07" not in link.plain
    assert "[@click=app.quit]go[/]" in link.plain  # shown literally, not interpreted
    assert link.plain.endswith(untrusted(hostile, max_chars=200).plain)
    for span in link.spans:
        assert "click" not in str(span.style) and "link" not in str(span.style)


class OneView(App[None]):
    def compose(self) -> ComposeResult:
        yield OutboxStatusView()


async def test_reply_list_renders_the_link() -> None:
    app = OneView()
    async with app.run_test(size=(100, 12)) as pilot:
        view = app.query_one(OutboxStatusView)
        view.show([sent()])
        await pilot.pause()
        shown = app.export_screenshot()
    assert "bsky.app/profile/comptoir.bsky.social/post/3lb" in shown

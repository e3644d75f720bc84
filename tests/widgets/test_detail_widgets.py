"""Pilot tests of the detail pane widgets: mention detail, customer card, history, outbox status.

Each widget is mounted in a tiny app with a right-hand pane as narrow as the real one, fed rows
through its public `show(...)` API, and checked on what it renders. Time comes from a
FrozenClock; nothing sleeps.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.color import Color
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from console.clock import FrozenClock
from db.models import (
    Customer,
    CustomerCard,
    HistoryItem,
    Identity,
    Mention,
    Note,
    OutboxItem,
    OutboxState,
    Status,
)
from widgets.customer_card import CustomerCardView, format_audience
from widgets.history import MAX_ITEMS, HistoryView
from widgets.mention_detail import MAX_TEXT_CHARS, MentionDetail, local_time, relative_time
from widgets.outbox_status import OutboxStatusView

NOW = 1_714_745_000  # a fixed instant; every time below is relative to it
SIZES = [(120, 40), (80, 24)]

HOSTILE = [
    "[@click=app.quit]",
    "[/]",
    "[link=http://x]y",
    "\x1b]52;c;SGVsbG8=\x07",
    "\x1b[2J",
    "\u202e",
]
HOSTILE_TEXT = "pre " + " | ".join(HOSTILE) + " post"
# What the agent must see: the brackets as text, the bidi override as a visible tag.
HOSTILE_VISIBLE = ["[@click=app.quit]", "[/]", "[link=http://x]y", "<U+202E>"]
BIG_POST = ("a[/]b " * 40_000)[:200_000]  # 200 KB, markup-looking all the way


def make_mention(**overrides: Any) -> Mention:
    fields: dict[str, Any] = {
        "id": 7,
        "channel": "x",
        "remote_id": "r7",
        "thread_id": "t1",
        "in_reply_to": None,
        "customer_id": 1,
        "identity_id": 1,
        "author_handle": "janedoe",
        "author_name": "Jane Doe",
        "text": "My order never arrived.\nCan you help?",
        "lang": "en",
        "created_at": NOW - 12 * 60,
        "received_at": NOW - 12 * 60,
        "status": Status.OPEN,
        "priority": 2,
        "assignee": "alice",
        "tags": ("billing", "vip"),
        "first_reply_due": NOW + 3600,
        "replied_at": None,
        "snoozed_until": None,
        "resolved_at": None,
    }
    fields.update(overrides)
    return Mention(**fields)


def make_card(**customer_overrides: Any) -> CustomerCard:
    customer_fields: dict[str, Any] = {
        "id": 1,
        "display_name": "Jane Doe",
        "first_name": "Jane",
        "audience": 12_345,
        "tags": ("vip", "churn-risk"),
        "created_at": NOW - 86_400 * 30,
    }
    customer_fields.update(customer_overrides)
    return CustomerCard(
        customer=Customer(**customer_fields),
        identities=(
            Identity(1, 1, "x", "janedoe", "Jane Doe", 12_345, "u1"),
            Identity(2, 1, "mastodon", "jane@example.social", "Jane D.", 950, None),
        ),
        notes=(
            Note(1, 1, None, "bob", "old note", NOW - 86_400 * 3),
            Note(2, 1, 7, "alice", "new note\nsecond line", NOW - 3600),
        ),
    )


def make_history_item(i: int, **overrides: Any) -> HistoryItem:
    fields: dict[str, Any] = {
        "kind": "mention",
        "id": i,
        "mention_id": i,
        "channel": "x",
        "text": f"item {i}",
        "at": NOW - 1000 * (100 - i),
        "state": "resolved",
        "author": "janedoe",
    }
    fields.update(overrides)
    return HistoryItem(**fields)


def make_outbox(i: int, state: OutboxState, **overrides: Any) -> OutboxItem:
    fields: dict[str, Any] = {
        "id": i,
        "mention_id": 7,
        "channel": "x",
        "text": f"reply {i}",
        "state": state,
        "author": "alice",
        "remote_id": None,
        "error": None,
        "idempotency_key": f"k{i}",
        "attempts": 1,
        "created_at": NOW - 600 + i,
        "updated_at": NOW - 500 + i,
    }
    fields.update(overrides)
    return OutboxItem(**fields)


class DetailApp(App[None]):
    """The four widgets stacked in a right-hand scrolling pane, as on the main screen."""

    CSS = """
    #left { width: 1fr; }
    #pane { width: 45%; min-width: 45; max-width: 60; }
    """

    def __init__(self, clock: FrozenClock) -> None:
        super().__init__()
        self.clock = clock

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Static("queue", id="left")
            with VerticalScroll(id="pane"):
                yield MentionDetail(self.clock)
                yield OutboxStatusView()
                yield CustomerCardView()
                yield HistoryView()


def static_text(widget: MentionDetail) -> str:
    """The text of the displayed parts of the mention detail."""
    parts = []
    for static in widget.query(Static):
        if static.display and static.parent is not None and static.parent.display:
            visual = static.visual
            assert isinstance(visual, Content)
            parts.append(visual.plain)
    return "\n".join(parts)


def rendered_text(widget: CustomerCardView | HistoryView | OutboxStatusView) -> str:
    content = widget.render()
    assert isinstance(content, Content)
    return content.plain


def screen_lines(app: App[Any]) -> list[str]:
    """What the terminal would show, line by line (the compositor's strips, before encoding)."""
    # _compositor is private, but Textual is pinned to one exact version for snapshot tests.
    return ["".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips()]


def assert_screen_inert(app: App[Any]) -> None:
    """No escape character and no click action anywhere on the rendered screen."""
    for strip in app.screen._compositor.render_strips():
        for seg in strip:
            assert "\x1b" not in seg.text
            assert not any(ch in seg.text for ch in "\x07\x9b\x9d")
            if seg.style is not None and seg.style.meta:
                assert "@click" not in seg.style.meta
    assert "\x1b" not in app.export_screenshot()


# --- mention detail -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_mention_detail_shows_the_mention(size: tuple[int, int]) -> None:
    clock = FrozenClock(NOW)
    app = DetailApp(clock)
    async with app.run_test(size=size) as pilot:
        detail = app.query_one(MentionDetail)
        mention = make_mention()
        detail.show(mention, [mention], clock.now())
        await pilot.pause()
        text = static_text(detail)
        assert "X" in text
        assert "Jane Doe" in text
        assert "@janedoe" in text
        assert f"12 min ago · {local_time(mention.created_at)}" in text
        assert "status open" in text
        assert "assignee alice" in text
        assert "priority 2" in text
        assert "#billing #vip" in text
        # Newlines of the post are kept in the full text.
        assert "My order never arrived.\nCan you help?" in text
        assert "No mention selected." not in text
        assert detail.badge.state is not None
        assert detail.badge.state.level == "ok"
        screen = "\n".join(screen_lines(app))
        assert "Jane Doe" in screen
        assert "SLA 01:00" in screen
        assert "Can you help?" in screen


@pytest.mark.parametrize("size", SIZES)
async def test_mention_detail_empty_state(size: tuple[int, int]) -> None:
    clock = FrozenClock(NOW)
    app = DetailApp(clock)
    async with app.run_test(size=size) as pilot:
        detail = app.query_one(MentionDetail)
        await pilot.pause()
        assert "No mention selected." in "\n".join(screen_lines(app))
        mention = make_mention()
        detail.show(mention, [], NOW)
        await pilot.pause()
        assert "No mention selected." not in "\n".join(screen_lines(app))
        detail.show(None, [], NOW)
        await pilot.pause()
        screen = "\n".join(screen_lines(app))
        assert "No mention selected." in screen
        assert "Jane Doe" not in screen
        assert static_text(detail) == "No mention selected."
        detail.tick()  # a tick with nothing selected is a no-op, not a crash


def test_mention_detail_show_before_mount() -> None:
    """The screen may call show() before the widget is mounted."""
    detail = MentionDetail(FrozenClock(NOW))
    detail.show(make_mention(), [], NOW)
    assert detail.badge.state is not None
    assert detail.badge.state.label == "01:00"


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (0, "just now"),
        (59, "just now"),
        (60, "1 min ago"),
        (12 * 60 + 30, "12 min ago"),
        (3 * 3600 + 59, "3 h ago"),
        (2 * 86_400 + 5, "2 d ago"),
        (-5 * 60, "in 5 min"),
    ],
)
def test_relative_time(delta: int, expected: str) -> None:
    assert relative_time(NOW - delta, NOW) == expected


async def test_relative_time_follows_the_frozen_clock() -> None:
    clock = FrozenClock(NOW)
    app = DetailApp(clock)
    async with app.run_test(size=(120, 40)) as pilot:
        detail = app.query_one(MentionDetail)
        detail.show(make_mention(created_at=NOW - 30), [], clock.now())
        await pilot.pause()
        assert "just now · " in static_text(detail)
        clock.advance(5 * 60)
        detail.tick()
        await pilot.pause()
        assert "5 min ago · " in static_text(detail)
        clock.advance(2 * 3600)
        detail.tick()
        await pilot.pause()
        assert "2 h ago · " in "\n".join(screen_lines(app))


@pytest.mark.parametrize(
    ("overrides", "label", "level"),
    [
        ({"first_reply_due": NOW + 3600}, "SLA 01:00", "ok"),
        ({"first_reply_due": NOW + 5 * 60}, "SLA 00:05", "warn"),
        ({"first_reply_due": NOW - 12 * 60}, "SLA -00:12", "breach"),
        ({"first_reply_due": None}, "SLA --:--", "none"),
        ({"replied_at": NOW - 60}, "SLA --:--", "none"),
        ({"status": Status.RESOLVED, "resolved_at": NOW - 60}, "SLA --:--", "none"),
    ],
)
async def test_sla_badge_levels(overrides: dict[str, Any], label: str, level: str) -> None:
    clock = FrozenClock(NOW)
    app = DetailApp(clock)
    async with app.run_test(size=(80, 24)) as pilot:
        detail = app.query_one(MentionDetail)
        detail.show(make_mention(**overrides), [], clock.now())
        await pilot.pause()
        badge = detail.badge
        visual = badge.visual
        assert isinstance(visual, Content)
        assert visual.plain == label
        assert badge.has_class(f"-{level}")
        assert [c for c in ("-ok", "-warn", "-breach", "-none") if badge.has_class(c)] == [
            f"-{level}"
        ]
        assert label in "\n".join(screen_lines(app))


async def test_tick_repaints_the_badge_only_when_its_label_changes() -> None:
    clock = FrozenClock(NOW)
    app = DetailApp(clock)
    async with app.run_test(size=(120, 40)) as pilot:
        detail = app.query_one(MentionDetail)
        # 16 min left: "00:16" for 60 s, then "00:15" (still "ok" at exactly 900 s left), then
        # "warn" one second later with the same label: a level change repaints too.
        detail.show(make_mention(first_reply_due=NOW + 16 * 60), [], clock.now())
        await pilot.pause()
        updates: list[object] = []
        original = detail.badge.update

        def counting_update(*args: Any, **kwargs: Any) -> None:
            updates.append(args)
            original(*args, **kwargs)

        detail.badge.update = counting_update  # type: ignore[method-assign]
        for _ in range(59):
            clock.advance(1)
            detail.tick()
        assert updates == []
        assert detail.badge.has_class("-ok")
        clock.advance(1)
        detail.tick()
        assert len(updates) == 1
        assert detail.badge.has_class("-ok")
        clock.advance(1)
        detail.tick()
        assert len(updates) == 2
        assert detail.badge.has_class("-warn")
        clock.advance(15 * 60)
        detail.tick()
        await pilot.pause()
        assert len(updates) == 3
        assert detail.badge.has_class("-breach")
        assert "SLA -00:01" in "\n".join(screen_lines(app))


async def test_thread_oldest_first_with_the_selected_one_marked() -> None:
    clock = FrozenClock(NOW)
    app = DetailApp(clock)
    async with app.run_test(size=(120, 40)) as pilot:
        detail = app.query_one(MentionDetail)
        first = make_mention(id=1, author_handle="janedoe", text="first", created_at=NOW - 900)
        second = make_mention(id=2, author_handle="brand", text="second", created_at=NOW - 600)
        third = make_mention(id=3, author_handle="janedoe", text="third", created_at=NOW - 300)
        detail.show(second, [third, first, second], clock.now())
        await pilot.pause()
        text = static_text(detail)
        assert "Thread" in text
        thread_lines = [line for line in text.splitlines() if line[:2] in ("▶ ", "  ")]
        assert [line.split()[-1] for line in thread_lines] == ["first", "second", "third"]
        assert thread_lines[1].startswith("▶ ")
        assert "@brand second" in thread_lines[1]
        # A thread of one: the section is hidden.
        detail.show(first, [first], clock.now())
        await pilot.pause()
        assert "Thread" not in static_text(detail)


# --- customer card ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, "0 followers"),
        (1, "1 follower"),
        (950, "950 followers"),
        (1_000, "1k followers"),
        (12_345, "12.3k followers"),
        (999_960, "1M followers"),
        (4_500_000, "4.5M followers"),
    ],
)
def test_format_audience(count: int, expected: str) -> None:
    assert format_audience(count) == expected


@pytest.mark.parametrize("size", SIZES)
async def test_customer_card_shows_the_customer(size: tuple[int, int]) -> None:
    app = DetailApp(FrozenClock(NOW))
    async with app.run_test(size=size) as pilot:
        view = app.query_one(CustomerCardView)
        assert rendered_text(view) == "No customer."
        assert view.has_class("-empty")
        view.show(make_card())
        await pilot.pause()
        text = rendered_text(view)
        assert not view.has_class("-empty")
        lines = text.splitlines()
        assert lines[0] == "Jane Doe"
        assert "@janedoe  12.3k followers" in text
        assert "@jane@example.social  950 followers  Jane D." in text
        assert "#vip #churn-risk" in text
        # Notes newest first, with author and time, every line of a note indented.
        assert text.index("alice") < text.index("bob")
        assert f"alice · {local_time(NOW - 3600)}" in text
        assert "  new note\n  second line" in text
        view.show(None)
        await pilot.pause()
        assert rendered_text(view) == "No customer."


async def test_customer_card_without_notes() -> None:
    app = DetailApp(FrozenClock(NOW))
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(CustomerCardView)
        view.show(replace(make_card(), notes=()))
        await pilot.pause()
        assert "No notes yet." in rendered_text(view)


# --- history ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_history_newest_first_one_line_each(size: tuple[int, int]) -> None:
    app = DetailApp(FrozenClock(NOW))
    async with app.run_test(size=size) as pilot:
        view = app.query_one(HistoryView)
        assert rendered_text(view) == "No history."
        items = [
            make_history_item(1, text="old mention\nwith a newline", state="resolved"),
            make_history_item(
                2, kind="reply", mention_id=1, channel="mastodon", text="our reply", state="sent"
            ),
            make_history_item(3, channel="bluesky", text="current one", state="open"),
        ]
        view.show(items, current_mention_id=3)
        await pilot.pause()
        lines = rendered_text(view).splitlines()
        rows = [line for line in lines if line[:1] in ("▶", " ")]
        headers = [line for line in lines if line not in rows]
        # One date line per local day, above its rows; the post's newline did not add a line.
        assert len(rows) == 3
        assert headers == sorted({local_time(i.at, "%Y-%m-%d") for i in items}, reverse=True)
        assert lines[0] == local_time(items[2].at, "%Y-%m-%d")
        assert rows[0].startswith("▶" + local_time(items[2].at, "%H:%M"))
        assert "Bsky" in rows[0]
        assert "← mention" in rows[0]
        assert "open" in rows[0]
        assert rows[0].endswith("current one")
        assert "→ reply" in rows[1]
        assert "sent" in rows[1]
        assert "Mast" in rows[1]
        assert not rows[1].startswith("▶")
        assert rows[2].endswith("old mention with a newline")
        # On screen each item stays one row (no wrap, ellipsis), even in the narrow pane.
        view.scroll_visible(animate=False)
        await pilot.pause()
        screen = screen_lines(app)
        assert sum("Bsky" in row for row in screen) == 1
        assert sum("Mast" in row for row in screen) == 1
        assert sum("→ reply" in row for row in screen) == 1
        view.show([], None)
        await pilot.pause()
        assert rendered_text(view) == "No history."


async def test_history_is_bounded() -> None:
    app = DetailApp(FrozenClock(NOW))
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(HistoryView)
        view.show([make_history_item(i) for i in range(80)], current_mention_id=None)
        await pilot.pause()
        lines = rendered_text(view).splitlines()
        rows = [line for line in lines if line[:1] in ("▶", " ")]
        assert len(rows) == MAX_ITEMS + 1
        assert rows[0].endswith("item 79")
        assert lines[-1].strip() == "… 30 older not shown"


# --- outbox status ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_outbox_states(size: tuple[int, int]) -> None:
    app = DetailApp(FrozenClock(NOW))
    async with app.run_test(size=size) as pilot:
        view = app.query_one(OutboxStatusView)
        assert rendered_text(view) == "No replies yet."
        view.show(
            [
                make_outbox(1, OutboxState.SENT, remote_id="1790000000000000001"),
                make_outbox(2, OutboxState.FAILED, error="403 duplicate status", attempts=3),
                make_outbox(3, OutboxState.UNKNOWN),
                make_outbox(4, OutboxState.SENDING),
                make_outbox(5, OutboxState.QUEUED, text="x" * 500),
            ]
        )
        await pilot.pause()
        text = rendered_text(view)
        states = [line.split(" · ")[0] for line in text.splitlines() if not line.startswith(" ")]
        assert states == ["QUEUED", "SENDING", "UNKNOWN", "FAILED", "SENT"]  # newest first
        assert "id 1790000000000000001" in text
        assert "reason 403 duplicate status" in text
        assert "3 attempts" in text
        assert "not confirmed" in text
        assert "x" * 500 not in text  # the excerpt is cut
        assert len(view.failed) == 2
        assert "SENT" in "\n".join(screen_lines(app))
        view.show([])
        await pilot.pause()
        assert rendered_text(view) == "No replies yet."


async def test_states_use_theme_colours() -> None:
    """Theme variables in span styles resolve to real colours when rendered."""
    app = DetailApp(FrozenClock(NOW))
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(OutboxStatusView)
        view.show([make_outbox(1, OutboxState.FAILED, error="boom")])
        await pilot.pause()
        strips = app.screen._compositor.render_strips()
        colours = {
            seg.style.color.triplet
            for strip in strips
            for seg in strip
            if "FAILED" in seg.text and seg.style is not None and seg.style.color is not None
        }
        expected = Color.parse(app.theme_variables["text-error"]).rgb
        assert colours == {expected}


# --- hostile input ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_hostile_text_is_shown_literally_everywhere(size: tuple[int, int]) -> None:
    clock = FrozenClock(NOW)
    app = DetailApp(clock)
    async with app.run_test(size=size) as pilot:
        detail = app.query_one(MentionDetail)
        mention = make_mention(
            text=HOSTILE_TEXT,
            author_name=HOSTILE_TEXT,
            author_handle="[@click=app.quit]",
            assignee="[/]",
            tags=("[link=http://x]y", "\x1b[2J"),
        )
        other = make_mention(id=8, text=HOSTILE_TEXT, created_at=NOW - 3000)
        detail.show(mention, [other, mention], clock.now())
        card = make_card(display_name=HOSTILE_TEXT, tags=tuple(HOSTILE))
        card = replace(
            card,
            identities=(Identity(3, 1, "x", HOSTILE_TEXT, HOSTILE_TEXT, 10, None),),
            notes=(Note(3, 1, None, "[/]", HOSTILE_TEXT, NOW),),
        )
        app.query_one(CustomerCardView).show(card)
        app.query_one(HistoryView).show(
            [make_history_item(1, text=HOSTILE_TEXT, state="[/]", channel="[/]")], 1
        )
        app.query_one(OutboxStatusView).show(
            [
                make_outbox(1, OutboxState.FAILED, text=HOSTILE_TEXT, error=HOSTILE_TEXT),
                make_outbox(2, OutboxState.SENT, text=HOSTILE_TEXT, remote_id=HOSTILE_TEXT),
            ]
        )
        await pilot.pause()
        texts = [
            static_text(detail),
            rendered_text(app.query_one(CustomerCardView)),
            rendered_text(app.query_one(HistoryView)),
            rendered_text(app.query_one(OutboxStatusView)),
        ]
        for text in texts:
            assert "\x1b" not in text
            assert "\x07" not in text
            assert "\u202e" not in text
        # The full mention text, the outbox reason and the card name show every piece literally.
        for text in (texts[0], texts[1], texts[3]):
            for piece in HOSTILE_VISIBLE:
                assert piece in text
        assert "@[@click=app.quit]" in texts[0]
        assert "assignee [/]" in texts[0]
        assert "#[link=http://x]y" in texts[0]
        assert_screen_inert(app)
        # Brackets reach the screen as characters (the wide layout has room for the whole line).
        screen = "\n".join(screen_lines(app))
        assert "[@click=app.quit]" in screen
        assert "[/]" in screen
        # Clicking on the would-be action does nothing: the app is still running afterwards.
        await pilot.click(MentionDetail)
        await pilot.pause()
        assert app.is_running


@pytest.mark.parametrize("size", SIZES)
async def test_a_200_kb_post_does_not_break_the_pane(size: tuple[int, int]) -> None:
    clock = FrozenClock(NOW)
    app = DetailApp(clock)
    async with app.run_test(size=size) as pilot:
        detail = app.query_one(MentionDetail)
        big = make_mention(text=BIG_POST, author_name=BIG_POST)
        detail.show(big, [big, make_mention(id=9, text=BIG_POST, created_at=NOW - 99)], NOW)
        app.query_one(CustomerCardView).show(
            replace(make_card(), notes=(Note(9, 1, None, "bob", BIG_POST, NOW),))
        )
        app.query_one(HistoryView).show([make_history_item(1, text=BIG_POST)], 1)
        app.query_one(OutboxStatusView).show(
            [make_outbox(1, OutboxState.FAILED, text=BIG_POST, error=BIG_POST)]
        )
        await pilot.pause()
        text = static_text(detail)
        assert "a[/]b a[/]b" in text
        assert text.count("a[/]b") < MAX_TEXT_CHARS  # cut, and the cut is marked
        assert "…" in text
        assert detail.badge.state is not None
        assert detail.badge.state.level == "ok"
        assert_screen_inert(app)
        assert "a[/]b" in "\n".join(screen_lines(app))
        # The pane still scrolls to the end of the cut text without trouble.
        pane = app.query_one("#pane", VerticalScroll)
        pane.scroll_end(animate=False)
        await pilot.pause()
        assert app.is_running

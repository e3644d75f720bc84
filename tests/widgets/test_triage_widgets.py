"""The Triage section of the detail pane and the queue's priority marker."""

from __future__ import annotations

from dataclasses import replace

from textual.app import App, ComposeResult

from widgets.queue_list import PRIORITY_MARK
from widgets.triage_section import TriageSection

from .test_detail_widgets import HOSTILE_TEXT, HOSTILE_VISIBLE, make_mention
from .test_queue_list import FakeSource, QueueApp, lines, make_row, queue_list, settle


class SectionApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TriageSection()


async def test_section_shows_score_lane_and_each_reason() -> None:
    app = SectionApp()
    async with app.run_test(size=(60, 20)):
        section = app.query_one(TriageSection)
        assert section.has_class("-empty") and section.render().plain == "Not triaged."
        section.show(make_mention(priority=7, triage_reasons=(
            "large audience: 120k followers (+3)", "keyword: avocat (+3)")))
        text = section.render().plain
        assert text.splitlines() == [
            "priority 7  ·  main queue  (x: spam)",
            "• large audience: 120k followers (+3)",
            "• keyword: avocat (+3)",
        ]
        assert not section.has_class("-empty") and not section.has_class("-spam")
        section.show(make_mention(priority=0, triage_lane=1,
                                  triage_reasons=("likely spam: link-only",)))
        assert section.has_class("-spam")
        assert "spam lane  (x: not spam)" in section.render().plain
        section.show(make_mention(priority=0))
        assert "no signal" in section.render().plain
        section.show(None)
        assert section.has_class("-empty")


async def test_reasons_are_outside_text_and_render_inert() -> None:
    # A blocked handle or a configured keyword is quoted in a reason: never markup.
    app = SectionApp()
    async with app.run_test(size=(100, 20)):
        section = app.query_one(TriageSection)
        section.show(make_mention(triage_reasons=(f"blocked handle: {HOSTILE_TEXT}",)))
        await app.workers.wait_for_complete()
        text = section.render().plain
        for visible in HOSTILE_VISIBLE:
            assert visible in text
        assert "\x1b" not in text


async def test_queue_marks_high_priority_rows_at_80_columns() -> None:
    def row(index: int):  # type: ignore[no-untyped-def]
        return replace(make_row(index), priority=PRIORITY_MARK if index == 1 else 0)

    app = QueueApp(FakeSource(5, row))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        widget = queue_list(pilot)
        header, first, second = lines(widget)[:3]
        mark = header.index("AUTHOR") - 2  # the one-cell column before the author
        assert first[mark] == " " and second[mark] == "!"
        assert all(widget.render_line(y).cell_length == 80 for y in range(widget.size.height))

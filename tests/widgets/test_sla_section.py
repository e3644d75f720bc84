"""The detail pane's SLA block: one line per target, built from Content (never markup)."""

from __future__ import annotations

from db.sla import SlaOutcome
from widgets.sla_section import SlaSection, target_line

NOW = 1_795_683_600  # Thursday 26 November 2026 09:00 UTC


def outcome(target: str = "first_reply", **kw: int | None) -> SlaOutcome:
    fields: dict[str, int | None] = {
        "due_at": NOW + 3600, "completed_at": None, "breached_at": None, "paused_at": None,
    }
    fields.update(kw)
    return SlaOutcome(1, target, "business", NOW - 600, **fields)  # type: ignore[arg-type]


def test_each_state_reads_plainly() -> None:
    assert "01:00 left" in target_line(outcome(), NOW).plain
    assert target_line(outcome(paused_at=NOW - 60), NOW).plain.startswith("first reply")
    assert "paused since" in target_line(outcome(paused_at=NOW - 60), NOW).plain
    assert "met at" in target_line(outcome(completed_at=NOW - 60, paused_at=NOW - 60), NOW).plain
    late = target_line(outcome(completed_at=NOW, breached_at=NOW - 60, due_at=NOW - 60), NOW)
    assert "breached at" in late.plain and "done" in late.plain
    # Running past due before the tick's sweep: shown as breached with a negative countdown.
    assert "breached -00:01" in target_line(outcome(due_at=NOW - 30), NOW).plain
    assert "next reply" in target_line(outcome("next_reply"), NOW).plain


def test_policy_name_is_never_markup() -> None:
    hostile = SlaOutcome(1, "resolution", "[@click=app.quit]vip[/]", NOW, NOW + 60, None, None,
                         None)
    text = SlaSection.content_for([hostile], NOW, 900).plain
    assert "[@click=app.quit]vip[/]" in text

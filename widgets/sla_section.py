"""The "SLA" block of the detail pane: the mention's policy and where each of its targets stands
(running with its countdown, paused, met at, breached at).

Data comes down through `show(outcomes, now, warn)` (rows of `sla_outcomes`, see db/sla.py);
`tick(now)` repaints only when a running countdown's label or colour changed, so the once-a-second
heartbeat costs nothing while the minute does not turn. The policy name comes from config.toml
and still goes through `untrusted`; the block is assembled from `Content` pieces, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Final

from textual.content import Content

from console.sla import WARN_SECONDS, SlaState, sla_state
from db.sla import SlaOutcome
from widgets.mention_detail import local_time
from widgets.section import DetailSection
from widgets.text import untrusted

TARGET_LABELS: Final = {
    "first_reply": "first reply",
    "next_reply": "next reply",
    "resolution": "resolution",
}
_LEVEL_STYLES: Final = {
    "ok": "bold $text-success",
    "warn": "bold $text-warning",
    "breach": "bold $text-error",
    "none": "$text-muted",
}
_WHEN: Final = "%a %d %b %H:%M"  # the weekday matters when a clock waits over a weekend


class SlaSection(DetailSection):
    """The selected mention's SLA clocks. Call `show(outcomes, now, warn)`, then `tick(now)`."""

    BORDER_TITLE = "SLA"
    EMPTY_TEXT: ClassVar[str] = "No SLA policy."

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.outcomes: tuple[SlaOutcome, ...] = ()
        self.warn = WARN_SECONDS
        self._states: tuple[SlaState | None, ...] = ()

    def show(self, outcomes: Sequence[SlaOutcome], now: float, warn: int = WARN_SECONDS) -> None:
        """Display `outcomes` (empty: the empty state) as of `now`; `warn` is the policy's
        amber window."""
        self.outcomes = tuple(outcomes)
        self.warn = warn
        self._states = self._running_states(now)
        self.set_content(self.content_for(self.outcomes, now, warn) if self.outcomes else None)

    def tick(self, now: float) -> None:
        states = self._running_states(now)
        if states != self._states:
            self._states = states
            self.set_content(self.content_for(self.outcomes, now, self.warn))

    def _running_states(self, now: float) -> tuple[SlaState | None, ...]:
        return tuple(
            sla_state(o.due_at, now, self.warn) if o.state == "running" else None
            for o in self.outcomes
        )

    @staticmethod
    def content_for(outcomes: Sequence[SlaOutcome], now: float, warn: int) -> Content:
        lines = [
            Content.assemble(
                ("policy ", "$text-muted"), untrusted(outcomes[0].policy, max_chars=60)
            )
        ]
        for outcome in outcomes:
            lines.append(target_line(outcome, now, warn))
        return Content("\n").join(lines)


def target_line(outcome: SlaOutcome, now: float, warn: int = WARN_SECONDS) -> Content:
    """One target: `first reply  00:42 left · due Fri 27 Nov 17:30`, `paused`, `met ...`."""
    label = (f"{TARGET_LABELS.get(outcome.target, outcome.target):<12}", "")
    state = outcome.state
    due = outcome.due_at
    if state == "running" and due is not None:
        badge = sla_state(due, now, warn)
        if badge.level == "breach":  # past due, not yet swept by Store.mark_breaches
            return Content.assemble(
                label, ("breached ", _LEVEL_STYLES["breach"]), (badge.label, "$text-error"),
                (f" · was due {local_time(due, _WHEN)}", "$text-muted"),
            )
        return Content.assemble(
            label, (f"{badge.label} left", _LEVEL_STYLES[badge.level]),
            (f" · due {local_time(due, _WHEN)}", "$text-muted"),
        )
    if state == "running":
        return Content.assemble(label, ("running", "$text-muted"))
    if state == "paused":
        since = outcome.paused_at
        return Content.assemble(
            label, ("paused", "bold $text-muted"),
            (f" since {local_time(since, _WHEN)}" if since is not None else "", "$text-muted"),
        )
    if state == "met":
        completed = outcome.completed_at
        return Content.assemble(
            label, ("met", _LEVEL_STYLES["ok"]),
            (f" at {local_time(completed, _WHEN)}" if completed is not None else "",
             "$text-muted"),
        )
    breached = outcome.breached_at
    done = outcome.completed_at
    return Content.assemble(
        label, ("breached", _LEVEL_STYLES["breach"]),
        (f" at {local_time(breached, _WHEN)}" if breached is not None else "", "$text-muted"),
        (f" · done {local_time(done, _WHEN)}" if done is not None else "", "$text-muted"),
    )

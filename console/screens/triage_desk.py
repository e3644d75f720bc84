"""Triage on the desk: the spam / not-spam override (`x`), the triage views (main queue, spam
lane, delight) and the actions templates carry (applied when the reply is sent).

A mixin of MainScreen, kept here so the desk's module does not grow with every feature.
"""

from __future__ import annotations

from typing import Any, Final

from console.template_actions import TemplateActionError, describe, split_actions
from console.triage import DELIGHT_TAG
from db.errors import StoreError
from db.models import QueueFilter, Template
from db.triage import TRIAGE_SPAM

# The views the filter prompt and the palette offer: name -> (title, help).
TRIAGE_VIEWS: Final = {
    "main": ("View: main queue", "The queue without spam and trolls"),
    "spam": ("View: spam / trolls", "Mentions triage (or an agent) put in the spam lane"),
    "delight": ("View: delight", "Positive mentions from loyal or high-audience customers"),
}


def view_filter(name: str, current: QueueFilter | None = None) -> QueueFilter:
    """The filter of a triage view, keeping the current status and channel."""
    base = current or QueueFilter()
    keep = {"status": base.status, "channel": base.channel}
    if name == "spam":
        return QueueFilter(triage="spam", **keep)
    if name == "delight":
        return QueueFilter(tag=DELIGHT_TAG, **keep)
    if name == "all":
        return QueueFilter(triage="all", **keep)
    return QueueFilter(**keep)


def view_of(flt: QueueFilter) -> str:
    """Which triage view a filter is ("main", "spam", "delight" or "all")."""
    if flt.triage == "spam":
        return "spam"
    if flt.triage == "all":
        return "all"
    return "delight" if flt.tag == DELIGHT_TAG else "main"


class TriageDeskMixin:
    """Uses MainScreen's store, clock, filter, _highlighted, _store_action, _apply_filter, _say
    and _actor."""

    store: Any
    clock: Any
    filter: QueueFilter
    # The template each open draft came from (mention id -> template id), for its actions.
    _draft_templates: dict[int, int]

    # --- spam / not spam -------------------------------------------------------------------------
    async def action_toggle_spam(self) -> None:
        row = self._highlighted()  # type: ignore[attr-defined]
        if row is None:
            return
        mention = await self.store.mention(row.id)
        if mention is None:
            return
        to_spam = mention.triage_lane != TRIAGE_SPAM
        await self._store_action(  # type: ignore[attr-defined]
            row.id,
            self.store.set_triage_lane(row.id, "spam" if to_spam else "main",
                                       actor=self._actor,  # type: ignore[attr-defined]
                                       now=int(self.clock.now())),
            "Marked as spam: moved to the spam lane" if to_spam
            else "Not spam: back in the main queue",
        )

    async def action_view(self, name: str) -> None:
        await self._apply_filter(view_filter(name, self.filter))  # type: ignore[attr-defined]

    # --- templates with actions ------------------------------------------------------------------
    def template_body(self, template: Template) -> str | None:
        """The reply part of a template (its actions line removed); None, and the problems
        said, when the actions line is malformed."""
        try:
            actions, body = split_actions(template.body)
        except TemplateActionError as error:
            self._say(f"Template {template.name!r} not used: {error}",  # type: ignore[attr-defined]
                      severity="error")
            return None
        if actions:
            self._say(f"On send: {describe(actions)}")  # type: ignore[attr-defined]
        return body

    def remember_template(self, mention_id: int, template_id: int | None) -> None:
        if not hasattr(self, "_draft_templates"):
            self._draft_templates = {}
        if template_id is None:
            self._draft_templates.pop(mention_id, None)
        else:
            self._draft_templates[mention_id] = template_id

    def draft_template(self, mention_id: int) -> int | None:
        return getattr(self, "_draft_templates", {}).get(mention_id)

    async def apply_template_actions(self, mention_id: int) -> str:
        """After the reply to `mention_id` is queued: apply its template's actions, if any, in
        one Store call (each logged). Returns what was done, for the agent ("" if nothing)."""
        template_id = self.draft_template(mention_id)
        self.remember_template(mention_id, None)
        if template_id is None:
            return ""
        template = next((t for t in await self.store.templates() if t.id == template_id), None)
        if template is None:
            return ""
        try:
            actions, _body = split_actions(template.body)
        except TemplateActionError:
            return ""  # refused when the template was inserted; nothing to apply
        if not actions:
            return ""
        try:
            await self.store.apply_actions(
                mention_id, actions, actor=self._actor,  # type: ignore[attr-defined]
                now=int(self.clock.now()), source=f"template {template.name}: ",
            )
        except StoreError as error:
            self._say(f"Template actions not applied: {error}",  # type: ignore[attr-defined]
                      severity="error")
            return ""
        return describe(actions)


__all__ = ["TRIAGE_VIEWS", "TriageDeskMixin", "view_filter", "view_of"]

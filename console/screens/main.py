"""The agent's desk: queue on the left, the selected mention on the right, composer below.

The screen owns the data flow: it reads from the Store in workers and hands rows down to the
widgets, and it turns the widgets' messages and the agent's keys into Store actions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Final

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, TextArea

from console.actions import ALL_ACTIONS, SCREEN_ACTIONS
from console.clock import Clock
from console.config import Config
from console.links import find_links
from console.screens.crisis_desk import CrisisDeskMixin
from console.screens.prompts import FilterPrompt, LinkPrompt, SnoozePrompt, TextPrompt
from console.screens.triage_desk import TriageDeskMixin
from console.templates import TemplateContext, render
from db.errors import StoreError
from db.models import (
    ACTIVE_STATUSES,
    OutboxState,
    QueueFilter,
    QueueKey,
    QueueRow,
    Status,
    Template,
)
from db.sla import SlaOutcome
from db.store import Store
from widgets.activity import ActivityView
from widgets.composer import ReplyComposer
from widgets.composer import problems as send_problems
from widgets.crisis_banner import CrisisBanner
from widgets.customer_card import CustomerCardView
from widgets.history import HistoryView
from widgets.mention_detail import MentionDetail
from widgets.outbox_status import OutboxStatusView
from widgets.queue_list import QueueList
from widgets.sla_section import SlaSection
from widgets.status_bar import DeskStatus, StatusBar
from widgets.text import clean
from widgets.triage_section import TriageSection

if TYPE_CHECKING:
    # Types only: channel code (httpx, adapters) loads when an account exists, not at start.
    from console.demo.live import SimulatedChannel
    from console.sync.desk import DeskSync

SyncFactory = Callable[[], Awaitable["DeskSync | None"]]

# The detail pane follows the cursor once it rests this long (seconds). Repainting the pane (all
# its sections, a reflow of the scroll area) costs 30-50 ms of the event loop on a quiet 2-core
# box and 100-150 ms while a sync ingests; a j/k press arriving meanwhile waits for it. Measured
# with bench/bench_ingest_latency.py: cursor p99 118-208 ms during ingest when the pane repainted
# after every press, 54-63 ms (the rest is CPU taken by the ingesting process) when a burst of
# presses waits for the cursor to rest. A press after a rest still loads at once. 100 ms is longer
# than a held key's repeat interval (30-40 ms) and short enough not to read as lag.
DETAIL_DELAY: Final = 0.1


_PRINTABLE_KEY_ACTIONS = frozenset(
    action.action for action in SCREEN_ACTIONS
    if len(action.keys) == 1 or action.keys in ("slash", "number_sign", "question_mark")
)


class StoreQueueSource:
    """Adapts the Store and the current filter to the queue list's window protocol."""

    def __init__(self, store: Store, flt: QueueFilter) -> None:
        self.store = store
        self.filter = flt

    async def fetch(
        self, *, after: QueueKey | None, before: QueueKey | None, limit: int
    ) -> list[QueueRow]:
        return await self.store.queue_window(self.filter, after=after, before=before, limit=limit)


class MainScreen(TriageDeskMixin, CrisisDeskMixin, Screen[None]):
    DEFAULT_CSS = """
    MainScreen { layout: vertical; }
    MainScreen #desk { height: 1fr; }
    MainScreen QueueList { width: 3fr; min-width: 40; }
    MainScreen #detail {
        width: 2fr; min-width: 34; border-left: vkey $panel-lighten-1; padding: 0 1;
    }
    MainScreen #detail:focus { border-left: vkey $primary; }
    MainScreen ReplyComposer { display: none; max-height: 14; }
    MainScreen.-composing ReplyComposer { display: block; }
    /* Narrow terminals (80x24): one pane at a time; enter opens the detail, escape goes back. */
    MainScreen.-narrow #detail { display: none; width: 1fr; border-left: none; }
    MainScreen.-narrow.-detail-open QueueList { display: none; }
    MainScreen.-narrow.-detail-open #detail { display: block; }
    """

    BINDINGS = [action.binding() for action in SCREEN_ACTIONS]

    def __init__(
        self,
        store: Store,
        config: Config,
        clock: Clock,
        *,
        live: SimulatedChannel | None = None,
        sync_factory: SyncFactory | None = None,
        heartbeat: float | None = 1.0,
    ) -> None:
        super().__init__()
        self.heartbeat = heartbeat
        self.sync_factory = sync_factory
        self.sync: DeskSync | None = None
        self.store = store
        self.config = config
        self.clock = clock
        self.live = live
        self.filter = QueueFilter()
        self._source = StoreQueueSource(store, self.filter)
        self._current_id: int | None = None
        self._composing_for: int | None = None
        self._templates: list[Template] | None = None
        self._ticking = False
        # Real time scheduling, not the agent's clock: heartbeat=None (tests) loads at once; a
        # test may set a delay and call flush_detail() instead of waiting for the timer.
        self.detail_delay: float | None = DETAIL_DELAY if heartbeat is not None else None
        self._detail_pending: int | None = None
        self._detail_timer: Timer | None = None

    # --- layout --------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield CrisisBanner(id="crisis-banner")
        with Horizontal(id="desk"):
            yield QueueList(id="queue", tick_interval=None)
            with VerticalScroll(id="detail", can_focus=True):
                yield MentionDetail(self.clock, id="mention")
                yield SlaSection(id="sla")
                yield TriageSection(id="triage")
                yield OutboxStatusView(id="outbox")
                yield ActivityView(id="activity")
                yield CustomerCardView(id="customer")
                yield HistoryView(id="history")
        yield ReplyComposer(id="composer")
        yield Footer()

    @property
    def queue(self) -> QueueList:
        return self.query_one(QueueList)

    @property
    def composer(self) -> ReplyComposer:
        return self.query_one(ReplyComposer)

    async def on_mount(self) -> None:
        queue = self.queue
        queue.clock = self.clock
        queue.source = self._source
        self._update_layout_class(self.size.width)
        await queue.reload()
        queue.focus()
        await self.refresh_status()
        await self.refresh_crisis()
        if self.heartbeat is not None:
            self.set_interval(self.heartbeat, self.tick, name="desk-tick")
        if self.sync_factory is not None:
            self.start_sync()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While the agent types in the composer, printable keys are text: hide the bindings on
        such keys from the footer (and from the palette) so it does not advertise what they no
        longer do."""
        return not (action in _PRINTABLE_KEY_ACTIONS and isinstance(self.focused, TextArea))

    def on_resize(self) -> None:
        self._update_layout_class(self.size.width)

    def _update_layout_class(self, width: int) -> None:
        self.set_class(width < 100, "-narrow")

    # --- the once-a-second heartbeat -----------------------------------------------------------
    async def tick(self) -> None:
        """Advance the simulated channel, wake snoozed mentions, repaint SLA cells.

        Public so tests drive it after moving a FrozenClock, instead of waiting for the timer.
        """
        if self._ticking:  # a slow tick must not pile up behind itself
            return
        self._ticking = True
        try:
            now = int(self.clock.now())
            changed = False
            if self.live is not None:
                result = await self.live.step()
                changed = bool(result.new_mention_ids)
                if self._current_id is not None and result.acknowledged_outbox_ids:
                    self.load_detail(self._current_id)
            if await self.store.wake_snoozed(now):
                changed = True
            # Breaches are recorded as they happen, replied or not (reads an index of running
            # clocks, writes only when one went past due).
            await self.store.mark_breaches(now, max_batches=1)
            if changed:
                await self.queue.reload(keep=self._current_id)
            self.queue.tick()
            self.query_one(MentionDetail).tick()
            self.query_one(SlaSection).tick(self.clock.now())
            await self.refresh_status()
            await self.refresh_crisis(force=changed)
        finally:
            self._ticking = False

    # --- real channels ---------------------------------------------------------------------------
    @work(exclusive=True, group="sync", exit_on_error=False)
    async def start_sync(self) -> None:
        """Build the accounts' sync (keyring look-ups happen here, off the first paint), then
        keep it running for as long as the screen lives."""
        assert self.sync_factory is not None
        self.sync = await self.sync_factory()
        await self.refresh_status()
        if self.sync is None or self.heartbeat is None:
            return  # tests call sync_step() themselves
        while True:
            await self.sync_step()
            # Scheduling, not waiting for a result: sleep until the next run is due.
            await asyncio.sleep(max(0.2, self.sync.next_due() - self.clock.now()))

    async def sync_step(self) -> None:
        """One round of fetching and sending; the queue and detail repaint only if it changed."""
        if self.sync is None:
            return
        result = await self.sync.step()
        if result.new_ids:
            await self.queue.reload(keep=self._current_id)
        if result.outbox_changed and self._current_id is not None:
            self.load_detail(self._current_id)
        await self.refresh_status()

    async def refresh_status(self) -> None:
        now = int(self.clock.now())
        counts = await self.store.counts()
        breached = await self.store.breached_count(now)
        outbox = await self.store.outbox_counts()
        queued = outbox.get(OutboxState.QUEUED, 0) + outbox.get(OutboxState.SENDING, 0)
        failed = outbox.get(OutboxState.FAILED, 0)
        channel_states: tuple[str, ...] = ()
        if self.live is not None:
            channel_states += (self.live.describe(),)
        stale = False
        if self.sync is not None:
            channel_states += self.sync.status_lines()
            stale = self.sync.stale()
        self.query_one(StatusBar).status = DeskStatus(
            view=self.filter.describe(),
            active=counts.main_active,
            breached=breached,
            outbox_pending=queued,
            outbox_failed=failed,
            channel_states=channel_states,
            sla_stale=stale,
        )
        self.queue.sla_stale = stale

    # --- selection and detail ------------------------------------------------------------------
    @on(QueueList.Highlighted)
    async def _on_highlighted(self, event: QueueList.Highlighted) -> None:
        row = event.row
        new_id = row.id if row is not None else None
        if new_id == self._current_id:
            return
        self._current_id = new_id
        if self._composing_for is not None and self._composing_for != new_id:
            # The draft of the previous mention is already saved; follow the cursor.
            await self._open_composer_for(row)
        if new_id is None:
            self._cancel_detail()
            self._show_empty_detail()
        else:
            self._follow_cursor(new_id)

    def _follow_cursor(self, mention_id: int) -> None:
        """Load the detail of the row under the cursor: at once when the cursor was resting, but
        during a burst of moves (each within `detail_delay` of the last) only once it rests
        again, so the burst repaints queue lines only (see DETAIL_DELAY)."""
        if self.detail_delay is None:
            self.load_detail(mention_id)
            return
        resting = self._detail_timer is None
        self._cancel_detail()
        self._detail_timer = self.set_timer(self.detail_delay, self.flush_detail,
                                            name="detail-follow")
        if resting:
            self.load_detail(mention_id)
            return
        shown = self.query_one(MentionDetail).mention
        if shown is None or shown.id != mention_id:  # not back on the row shown (j then k)
            self._detail_pending = mention_id

    def _cancel_detail(self) -> None:
        self._detail_pending = None
        if self._detail_timer is not None:
            self._detail_timer.stop()
            self._detail_timer = None

    def flush_detail(self) -> bool:
        """Load the detail the cursor is waiting for now; False if none is pending. The timer's
        callback (the burst is over: the next move loads at once), and also called when the agent
        opens the row, who must not see the previous one."""
        pending = self._detail_pending
        self._cancel_detail()
        if pending is None or pending != self._current_id:
            return False
        self.load_detail(pending)
        return True

    @on(QueueList.Selected)
    def _on_selected(self, event: QueueList.Selected) -> None:
        self.flush_detail()
        self.add_class("-detail-open")
        self.query_one("#detail").focus()

    def _show_empty_detail(self) -> None:
        now = self.clock.now()
        self.query_one(MentionDetail).show(None, (), now)
        self.query_one(SlaSection).show((), now)
        self.query_one(TriageSection).show(None)
        self.query_one(OutboxStatusView).show(())
        self.query_one(CustomerCardView).show(None)
        self.query_one(HistoryView).show((), None)
        self.query_one(ActivityView).show(())

    @work(exclusive=True, group="detail", exit_on_error=False)
    async def load_detail(self, mention_id: int) -> None:
        mention = await self.store.mention(mention_id)
        if mention is None:
            self._show_empty_detail()
            return
        thread = await self.store.thread(mention_id)
        outbox = await self.store.outbox_for_mention(mention_id)
        card = await self.store.customer_card(mention.customer_id)
        history = await self.store.customer_history(mention.customer_id, limit=30)
        events = await self.store.events(mention_id)
        sla = await self.store.sla_outcomes(mention_id)
        if mention_id != self._current_id:
            return  # the cursor moved on while we read
        # One frame for the whole pane, not one per widget: bytes matter on slow links.
        with self.app.batch_update():
            self.query_one(MentionDetail).show(mention, thread, self.clock.now())
            self.query_one(SlaSection).show(sla, self.clock.now(), self._sla_warn(sla))
            self.query_one(TriageSection).show(mention)
            self.query_one(OutboxStatusView).show(outbox)
            self.query_one(CustomerCardView).show(card)
            self.query_one(HistoryView).show(history, mention_id)
            self.query_one(ActivityView).show(events)
            self.query_one("#detail", VerticalScroll).scroll_home(animate=False)

    def _sla_warn(self, outcomes: Sequence[SlaOutcome]) -> int:
        """The amber window of the mention's policy (the section's default without one)."""
        rules = self.config.sla.rules
        policy = rules.policies.get(outcomes[0].policy) if outcomes else None
        return (policy or rules.policies[rules.default]).warn

    async def _after_change(self, mention_id: int) -> None:
        """Repaint what an action on one mention changed: its row, its detail, the counters."""
        await self.queue.reload(keep=mention_id)
        if self._current_id is not None:
            self.load_detail(self._current_id)
        await self.refresh_status()

    async def show_mention(self, mention_id: int) -> bool:
        """Put the queue cursor on a mention, wherever it sits in the current view."""
        row = await self.store.queue_row(mention_id)
        if row is None:
            return False
        return await self.queue.select_id(mention_id, row.key)

    def _highlighted(self) -> QueueRow | None:
        row = self.queue.highlighted_row
        if row is None:
            self.notify("No mention selected", severity="warning", markup=False)
        return row

    @property
    def _actor(self) -> str:
        return self.config.agent.id

    def _say(self, message: str, *, severity: str = "information") -> None:
        # Messages can quote customer handles or server reasons: never markup.
        self.notify(clean(message, max_chars=300), severity=severity, markup=False)  # type: ignore[arg-type]

    async def _store_action(self, mention_id: int, coro: object, done: str) -> None:
        try:
            await coro  # type: ignore[misc]
        except StoreError as error:
            self._say(str(error), severity="error")
            return
        self._say(done)
        await self._after_change(mention_id)

    # --- composer ------------------------------------------------------------------------------
    async def _open_composer_for(self, row: QueueRow | None) -> None:
        if row is None:
            self._close_composer()
            return
        draft = await self.store.draft(row.id)
        text = draft.text if draft is not None else ""
        if draft is not None and draft.template_id is not None:
            self.remember_template(row.id, draft.template_id)  # its actions apply on send
        if draft is None:
            # A reply the channel refused comes back for editing: sending it again queues a
            # new outbox row, and the failed one stays visible with the server's reason.
            outbox = await self.store.outbox_for_mention(row.id)
            latest = max(outbox, key=lambda item: (item.created_at, item.id), default=None)
            if latest is not None and latest.state is OutboxState.FAILED:
                text = latest.text
                self._say("The last reply failed: edit it and press ctrl+s to queue it again",
                          severity="warning")
        composer = self.composer
        composer.channel = row.channel
        composer.load(text)
        self._composing_for = row.id
        self.add_class("-composing")

    def _close_composer(self) -> None:
        self._composing_for = None
        self.remove_class("-composing")
        self.queue.focus()

    async def action_reply(self) -> None:
        row = self._highlighted()
        if row is None:
            return
        await self._open_composer_for(row)
        self.composer.focus_editor()

    @on(ReplyComposer.DraftChanged)
    async def _on_draft_changed(self, event: ReplyComposer.DraftChanged) -> None:
        if self._composing_for is None:
            return
        # Saved on every change so nothing typed is lost when the agent moves or the app dies.
        await self.store.save_draft(
            self._composing_for, event.text, self.draft_template(self._composing_for),
            now=int(self.clock.now()),
        )

    async def _template_context(self, mention_id: int) -> TemplateContext | None:
        mention = await self.store.mention(mention_id)
        if mention is None:
            return None
        card = await self.store.customer_card(mention.customer_id)
        agent = self.config.agent
        customer = card.customer if card is not None else None
        return TemplateContext.for_mention(
            mention, customer, agent_name=agent.name, agent_first_name=agent.first_name,
            agent_signature=agent.signature,
        )

    async def action_template(self) -> None:
        row = self._highlighted()
        if row is None:
            return
        if self._templates is None:
            self._templates = await self.store.templates()
        if not self._templates:
            self._say("No templates yet: add some to the database first", severity="warning")
            return

        async def insert(template: Template | None) -> None:
            if template is not None:
                await self.apply_template(template, row)

        # Imported on first use: fuzzy matching is not needed for the first paint.
        from console.screens.template_picker import TemplatePicker

        self.app.push_screen(TemplatePicker(self._templates), insert)

    async def apply_template(self, template: Template, row: QueueRow) -> None:
        """Fill `template` for the mention's customer and put it in the composer, free fields
        left to fill (the first one selected)."""
        context = await self._template_context(row.id)
        if context is None:
            return
        body = self.template_body(template)  # without its actions line (applied on send)
        if body is None:
            return
        rendered = render(body, context, {})
        if self._composing_for != row.id:
            await self._open_composer_for(row)
        self.remember_template(row.id, template.id)
        self.composer.load(rendered.text, placeholders=rendered.missing)
        await self.store.save_draft(row.id, rendered.text, template.id, now=int(self.clock.now()))
        self.composer.focus_editor()
        if rendered.missing:
            self._say("Fill in: " + ", ".join("{" + name + "}" for name in rendered.missing))

    @on(ReplyComposer.SendRequested)
    async def _on_send_requested(self, event: ReplyComposer.SendRequested) -> None:
        event.stop()
        await self.action_send()

    async def action_send(self) -> None:
        mention_id = self._composing_for
        if mention_id is None:
            self._say("Nothing to send: press r to write a reply", severity="warning")
            return
        text = self.composer.text.strip()
        row = self.queue.highlighted_row
        channel = row.channel if row is not None and row.id == mention_id else self.composer.channel
        reasons = send_problems(channel, text, self.composer.placeholders)
        if reasons:
            self._say("Not sent: " + "; ".join(reasons), severity="error")
            return
        try:
            await self.store.queue_reply(
                mention_id, text, author=self._actor, now=int(self.clock.now())
            )
        except StoreError as error:
            self._say(str(error), severity="error")
            return
        applied = await self.apply_template_actions(mention_id)
        self.composer.load("")
        self._close_composer()
        self._say("Reply queued in the outbox; " + (f"template actions: {applied}" if applied
                                                     else "the mention is now pending"))
        await self._after_change(mention_id)

    # --- mention actions -----------------------------------------------------------------------
    async def action_resolve(self) -> None:
        row = self._highlighted()
        if row is not None:
            await self._store_action(
                row.id,
                self.store.set_status(row.id, Status.RESOLVED, actor=self._actor,
                                      now=int(self.clock.now())),
                "Resolved",
            )

    async def action_reopen(self) -> None:
        row = self._highlighted()
        if row is None:
            return
        if row.status in ACTIVE_STATUSES:
            self._say("Already open", severity="warning")
            return
        await self._store_action(
            row.id,
            self.store.set_status(row.id, Status.OPEN, actor=self._actor,
                                  now=int(self.clock.now())),
            "Reopened",
        )

    async def action_assign(self) -> None:
        row = self._highlighted()
        if row is None:
            return
        mine = row.assignee == self._actor
        await self._store_action(
            row.id,
            self.store.assign(row.id, None if mine else self._actor, actor=self._actor,
                              now=int(self.clock.now())),
            "Unassigned" if mine else "Assigned to you",
        )

    def action_snooze(self) -> None:
        row = self._highlighted()
        if row is None:
            return

        async def snooze(seconds: int | None) -> None:
            if seconds is None:
                return
            now = int(self.clock.now())
            await self._store_action(
                row.id,
                self.store.set_status(row.id, Status.SNOOZED, actor=self._actor, now=now,
                                      snooze_until=now + seconds),
                f"Snoozed for {seconds // 60} min",
            )

        self.app.push_screen(SnoozePrompt(), snooze)

    def action_note(self) -> None:
        row = self._highlighted()
        if row is None:
            return

        async def add(text: str | None) -> None:
            if not text or not text.strip():
                return
            await self._store_action(
                row.id,
                self.store.add_note(row.id, text.strip(), author=self._actor,
                                    now=int(self.clock.now())),
                "Note added",
            )

        self.app.push_screen(TextPrompt("Internal note (only agents see it)",
                                        placeholder="What should the next agent know?"), add)

    def action_tag(self) -> None:
        row = self._highlighted()
        if row is None:
            return

        async def set_tags(text: str | None) -> None:
            if text is None:
                return
            tags = [t.strip().lstrip("#") for t in text.replace(",", " ").split()]
            await self._store_action(
                row.id,
                self.store.set_tags(row.id, [t for t in tags if t], actor=self._actor,
                                    now=int(self.clock.now())),
                "Tags saved",
            )

        self.app.push_screen(TextPrompt("Tags (space or comma separated)",
                                        initial=" ".join(row.tags)), set_tags)

    async def action_links(self) -> None:
        row = self._highlighted()
        if row is None:
            return
        mention = await self.store.mention(row.id)
        links = find_links(mention.text) if mention is not None else []
        if not links:
            self._say("No link in this mention")
            return

        def open_link(url: str | None) -> None:
            if url is not None:
                self.open_in_browser(url)

        self.app.push_screen(LinkPrompt(links), open_link)

    @work(thread=True, exit_on_error=False)
    def open_in_browser(self, url: str) -> None:
        # webbrowser can block (it may start a program): a thread keeps the desk responsive.
        import webbrowser

        if not webbrowser.open(url, new=2):
            self.app.call_from_thread(self._say, "No browser could be started here",
                                      severity="warning")

    # --- views ---------------------------------------------------------------------------------
    async def _apply_filter(self, flt: QueueFilter) -> None:
        self.filter = flt
        self._source.filter = flt
        self.queue.empty_message = (
            "No mentions match this view" if flt != QueueFilter() else "Nothing to do: inbox zero"
        )
        await self.queue.reload()
        await self.refresh_status()

    def action_search(self) -> None:
        async def search(text: str | None) -> None:
            if text is None:
                return
            await self._apply_filter(replace(self.filter, search=text.strip() or None))

        self.app.push_screen(
            TextPrompt("Search mentions and authors", initial=self.filter.search or "",
                       placeholder="words, @handle… (accents optional)",
                       hint="enter: search · empty: clear · escape: cancel"),
            search,
        )

    def action_filter(self) -> None:
        async def apply(flt: QueueFilter | None) -> None:
            if flt is not None:
                await self._apply_filter(flt)

        self.app.push_screen(FilterPrompt(self.filter, agent_id=self._actor), apply)

    def action_help(self) -> None:
        from console.screens.help import HelpScreen

        keymap = getattr(self.app, "_keymap", {})
        keys = {action.id: self.app.get_key_display_for(action, keymap) for action in ALL_ACTIONS}
        self.app.push_screen(HelpScreen(ALL_ACTIONS, keys))

    def action_stats(self) -> None:
        # Imported on first use: the charts and reports are not needed to start the desk.
        from console.screens.stats import StatsScreen

        self.app.push_screen(StatsScreen(self.store, self.clock))

    async def action_back(self) -> None:
        if self.has_class("-composing"):
            self._close_composer()
        elif self.has_class("-detail-open"):
            self.remove_class("-detail-open")
            self.queue.focus()
        elif self.filter.search:
            await self._apply_filter(replace(self.filter, search=None))
        elif self.filter != QueueFilter():
            await self._apply_filter(QueueFilter())
        else:
            self.queue.focus()

    def action_quit(self) -> None:
        self.app.exit()


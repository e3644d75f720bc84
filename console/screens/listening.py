"""The listening view: posts about the brand and its competitors found by the watch lists.

Opened with `w` from the desk. Results are not queue items: they are listed newest first, at
most `LISTED` (a bounded read on the watch_results rowid), each with the term that found it.
`p` promotes the highlighted result into the queue as a real mention (logged as an event); a
promoted result stays listed, marked with the mention it became. New results show up on the
heartbeat, or when `reload()` is called (tests).
"""

from __future__ import annotations

from typing import ClassVar, Final

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from console.actions import LISTENING_ACTIONS
from console.clock import Clock
from console.config import Config
from console.listening_config import ListeningConfig
from db.errors import StoreError
from db.listening import WatchResult, promote_watch_result, watch_results
from db.store import Store
from widgets.text import clean, untrusted

LISTED: Final = 200
_CHANNEL_SHORT = {"x": "X ", "mastodon": "MA", "bluesky": "BS"}


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def result_line(result: WatchResult, now: float) -> Content:
    """One listening result: age, channel, matched term, author, text (outside text inert)."""
    promoted = result.promoted_mention_id
    mark = (Content.styled(f"{'queued':<8}", "bold $success") if promoted is not None
            else Content(" " * 8))
    return Content.assemble(
        Content.styled(f"{_age(now - result.at):>4}", "$text-muted"),
        "  ",
        Content.styled(_CHANNEL_SHORT.get(result.channel, clean(result.channel)[:2]), "$accent"),
        "  ",
        mark,
        untrusted(result.term, max_chars=16, style="bold").truncate(16, pad=True),
        "  ",
        untrusted(result.author_handle, max_chars=22).truncate(22, pad=True),
        "  ",
        untrusted(result.text, max_chars=160),
    )


class ResultList(OptionList):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", "Down", show=False, id="down"),
        Binding("k,up", "cursor_up", "Up", show=False, id="up"),
        Binding("g,home", "first", "First", show=False, id="first"),
        Binding("G,end", "last", "Last", show=False, id="last"),
    ]


class ListeningScreen(Screen[None]):
    DEFAULT_CSS = """
    ListeningScreen { layout: vertical; }
    ListeningScreen #listening-title { height: auto; padding: 0 1; background: $primary 20%; }
    ListeningScreen ResultList { height: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    ListeningScreen #listening-status { height: 1; padding: 0 1; background: $panel; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        *(action.binding() for action in LISTENING_ACTIONS),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self, store: Store, config: Config, clock: Clock, watch: ListeningConfig, *,
                 heartbeat: float | None = None) -> None:
        super().__init__()
        self.store = store
        self.config = config
        self.clock = clock
        self.watch = watch
        self.heartbeat = heartbeat
        self.results: list[WatchResult] = []

    def compose(self) -> ComposeResult:
        yield Static(id="listening-title")
        yield ResultList(id="listening-results")
        yield Static(id="listening-status")
        yield Footer()

    @property
    def results_list(self) -> ResultList:
        return self.query_one(ResultList)

    async def on_mount(self) -> None:
        terms = (", ".join(term.term for term in self.watch.terms)
                 or "no watch terms yet (add a [listening] section to config.toml)")
        self.query_one("#listening-title", Static).update(Content.assemble(
            Content.styled("Listening: ", "bold $primary"),
            untrusted(terms, max_chars=200),
        ))
        await self.reload()
        self.results_list.focus()
        if self.heartbeat is not None:
            self.set_interval(max(self.heartbeat, 2.0), self.reload, name="listening-tick")

    @property
    def highlighted(self) -> WatchResult | None:
        index = self.results_list.highlighted
        if index is None or not 0 <= index < len(self.results):
            return None
        return self.results[index]

    async def reload(self) -> None:
        """Read the newest results again, keeping the highlighted one under the cursor."""
        keep = self.highlighted
        fresh = await watch_results(self.store, limit=LISTED)
        if fresh == self.results:
            return
        self.results = fresh
        now = self.clock.now()
        results = self.results_list
        results.set_options(Option(result_line(r, now), id=str(r.id)) for r in fresh)
        if fresh:
            index = next((i for i, r in enumerate(fresh) if keep and r.id == keep.id), 0)
            results.highlighted = index
        status = (f"{len(fresh)} newest results, not queue items until promoted  ·  "
                  "p: promote to the queue  ·  escape: back") if fresh else (
            "No listening results yet: add watch terms under [listening] in config.toml")
        self.query_one("#listening-status", Static).update(Content(status))

    async def action_promote(self) -> None:
        result = self.highlighted
        if result is None:
            self.notify("No result selected", severity="warning", markup=False)
            return
        if result.promoted_mention_id is not None:
            # Ids only today, but every notice goes through clean(), so quoting a handle later
            # stays safe.
            self.notify(clean(f"Already in the queue (mention {result.promoted_mention_id})"),
                        markup=False)
            return
        try:
            mention_id = await promote_watch_result(
                self.store, result.id, actor=self.config.agent.id, now=int(self.clock.now()),
                first_reply_sla=self.config.sla.first_reply_seconds,
            )
        except StoreError as error:
            self.notify(clean(str(error), max_chars=300), severity="error", markup=False)
            return
        self.notify(clean(f"Promoted to the queue as mention {mention_id}"), markup=False)
        await self.reload()

    def action_back(self) -> None:
        self.dismiss(None)

"""Crisis mode and listening on the desk: the banner, and the keys that open their views.

A mixin of MainScreen, kept here so the desk's module does not grow with every feature: it polls
the `CrisisMonitor` (spikes from the maintained topic counts, and the pinned note from the DB, so a
note pinned on another console shows up within `CRISIS_EVERY` seconds) and opens the crisis view
(`C`), the pin prompt (`P`) and the listening view (`w`).
"""

from __future__ import annotations

from typing import Any, Final

from console.actions import SCREEN_ACTIONS
from console.crisis import CrisisMonitor
from console.listening_config import ListeningConfig
from console.screens.prompts import TextPrompt
from db.crisis import pin_note, unpin_note
from db.errors import StoreError
from widgets.crisis_banner import BannerState, CrisisBanner

# Seconds between two looks at the topic counts and the pinned note (both a few index reads).
CRISIS_EVERY: Final = 5.0
_ACTIONS: Final = {action.id: action for action in SCREEN_ACTIONS}


class CrisisDeskMixin:
    """Uses MainScreen's store, config, clock, live, heartbeat, queue, _say and _actor."""

    store: Any
    config: Any
    clock: Any
    live: Any
    heartbeat: float | None
    _crisis_monitor: CrisisMonitor | None = None
    _crisis_checked: float = float("-inf")
    _crisis_failed: bool = False

    def _monitor(self) -> CrisisMonitor:
        if self._crisis_monitor is None:
            self._crisis_monitor = CrisisMonitor(self.store, self.config.crisis)
        return self._crisis_monitor

    def _key_for(self, binding_id: str) -> str:
        keymap = getattr(self.app, "_keymap", {})
        return self.app.get_key_display_for(_ACTIONS[binding_id], keymap)

    async def refresh_crisis(self, *, force: bool = True) -> None:
        """Look for spikes and the pinned note, and show them in the banner."""
        now = self.clock.now()
        if not force and now - self._crisis_checked < CRISIS_EVERY:
            return
        self._crisis_checked = now
        try:
            state = await self._monitor().check(int(now))
        except StoreError as error:
            # A locked or read-only file must not take the desk down: say it once, retry later.
            if not self._crisis_failed:
                self._crisis_failed = True
                self._say(f"Crisis check failed: {error}", severity="warning")
            return
        self._crisis_failed = False
        top = state.top
        note = state.note
        self.query_one(CrisisBanner).state = BannerState(
            spike=top.describe() if top is not None else None,
            more=max(0, len(state.spikes) - 1),
            key=self._key_for("crisis"),
            note=note.text if note is not None else None,
            note_author=note.author if note is not None else None,
            note_key=self._key_for("pin_note"),
        )

    async def _back_from_side_screen(self, _result: object = None) -> None:
        # Replies queued or mentions promoted there: the queue, banner and counters follow.
        await self.queue.reload(keep=self._current_id)
        if self._current_id is not None:
            self.load_detail(self._current_id)
        await self.refresh_status()
        await self.refresh_crisis()

    async def action_crisis(self) -> None:
        await self.refresh_crisis()
        spikes = self._monitor().state.spikes
        if not spikes:
            self._say("No topic is spiking right now")
            return
        from console.screens.crisis import CrisisScreen

        self.app.push_screen(CrisisScreen(self.store, self.config, self.clock, spikes,
                                          heartbeat=self.heartbeat),
                             self._back_from_side_screen)

    def action_pin_note(self) -> None:
        note = self._monitor().state.note

        async def pin(text: str | None) -> None:
            if text is None:
                return
            now = int(self.clock.now())
            try:
                if text.strip():
                    await pin_note(self.store, text, author=self._actor, now=now)
                    self._say("Note pinned for every agent")
                elif await unpin_note(self.store, author=self._actor, now=now):
                    self._say("Note unpinned")
            except StoreError as error:
                self._say(str(error), severity="error")
                return
            await self.refresh_crisis()

        self.app.push_screen(
            TextPrompt("Pinned crisis note (every agent sees it)",
                       initial=note.text if note is not None else "",
                       placeholder="e.g. Outage Lyon: holding reply only, no ETA promises",
                       hint="enter: pin · empty: unpin · escape: cancel"),
            pin,
        )

    def watch_list(self) -> ListeningConfig:
        """config.toml's watch list; in the demo, the simulated channel's when config has none."""
        watch = self.config.listening
        live = self.live
        if watch.empty and live is not None and live.listening is not None:
            return live.listening
        return watch

    def action_listening(self) -> None:
        from console.screens.listening import ListeningScreen

        self.app.push_screen(
            ListeningScreen(self.store, self.config, self.clock, self.watch_list(),
                            heartbeat=self.heartbeat),
            self._back_from_side_screen,
        )


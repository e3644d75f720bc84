"""The Comptoir App: owns the long-lived things (Store, clock, config, live channel) and wires
them into the main screen. Everything else lives in screens and widgets."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from console.actions import PALETTE, SCREEN_ACTIONS, AgentAction
from console.clock import Clock, SystemClock
from console.config import Config
from console.crash import CrashReportingMixin
from console.crisis import install as install_topics
from console.screens.main import MainScreen, SyncFactory
from console.screens.triage_desk import TRIAGE_VIEWS
from console.triage import install as install_triage
from db.store import Store
from themes import THEMES, register_themes, resolve_theme

if TYPE_CHECKING:  # the demo's channel is only imported by `comptoir demo`
    from console.demo.live import SimulatedChannel


class ComptoirApp(CrashReportingMixin, App[None]):
    TITLE = "Comptoir"
    BINDINGS = [PALETTE.binding()]

    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        clock: Clock | None = None,
        live: SimulatedChannel | None = None,
        theme: str | None = None,
        heartbeat: float | None = 1.0,
        sync_factory: SyncFactory | None = None,
    ) -> None:
        super().__init__()
        # Seconds between SLA/live/snooze ticks; tests pass None and call MainScreen.tick().
        self.heartbeat = heartbeat
        # Builds the real channels' sync once the desk is on screen (None: local data only).
        self.sync_factory = sync_factory
        self.store = store
        if store is not None:
            # This console's triage settings score what the live channel and sync bring in.
            install_triage(store, config.triage)
        if store is not None:  # snapshot apps open theirs on mount
            # This console's crisis keywords decide which topics new mentions are counted under.
            install_topics(store, config.crisis)
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.live = live
        self._theme_name = theme or config.theme

    def on_mount(self) -> None:
        register_themes(self)
        self.theme = resolve_theme(self._theme_name)
        if self.config.keys:
            self.set_keymap(dict(self.config.keys))
        self.push_screen(
            MainScreen(self.store, self.config, self.clock, live=self.live,
                       sync_factory=self.sync_factory, heartbeat=self.heartbeat)
        )

    def get_key_display_for(self, action: AgentAction, keymap: dict[str, str]) -> str:
        """The keys of an action as the user sees them, after remaps from config.toml."""
        keys = keymap.get(action.id, action.keys)
        return ", ".join(self.get_key_display(Binding(key.strip(), "")) for key in keys.split(","))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, MainScreen):
            for action in SCREEN_ACTIONS:
                yield SystemCommand(
                    action.label, action.help, partial(self._run_screen_action, screen, action)
                )
            for view, (title, help_text) in TRIAGE_VIEWS.items():
                yield SystemCommand(title, help_text, partial(screen.action_view, view))
        for name in THEMES:
            yield SystemCommand(
                f"Theme: {name}", f"Switch to the {name} theme", partial(self.switch_theme, name)
            )

    async def _run_screen_action(self, screen: Screen, action: AgentAction) -> None:
        await screen.run_action(action.action)

    def switch_theme(self, name: str) -> None:
        self.theme = resolve_theme(name)

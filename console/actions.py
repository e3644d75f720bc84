"""Every agent action of the main screen, defined once.

One entry gives the binding (with the `id` that users remap in config.toml), the footer label,
the help-screen line and the command-palette entry, so the four never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from textual.binding import Binding


@dataclass(frozen=True, slots=True)
class AgentAction:
    id: str  # binding id: the keymap contract
    keys: str  # default keys, comma separated
    action: str  # Textual action name on the main screen
    label: str  # footer / palette title
    help: str  # one line for the help screen and the palette
    footer: bool = True
    priority: bool = False

    def binding(self) -> Binding:
        return Binding(
            self.keys,
            self.action,
            self.label,
            show=self.footer,
            id=self.id,
            priority=self.priority,
        )


# Queue movement lives on the QueueList widget (same ids); listed here for help and palette.
QUEUE_MOVES: Final = (
    AgentAction("down", "j,down", "cursor_down", "Down", "Next mention in the queue", False),
    AgentAction("up", "k,up", "cursor_up", "Up", "Previous mention in the queue", False),
    AgentAction("first", "g,home", "first", "First", "First mention (next SLA breach)", False),
    AgentAction("last", "G,end", "last", "Last", "Last mention of the queue", False),
    AgentAction("page_down", "pagedown", "page_down", "Page down", "One page down", False),
    AgentAction("page_up", "pageup", "page_up", "Page up", "One page up", False),
    AgentAction("open", "enter", "select", "Open", "Open the mention's detail", False),
)

SCREEN_ACTIONS: Final = (
    # First, so that even an 80-column footer shows where the rest is.
    AgentAction("help", "question_mark", "help", "Help", "Show every key binding"),
    AgentAction("reply", "r", "reply", "Reply", "Write a reply to the mention"),
    AgentAction("template", "t", "template", "Template", "Pick a reply template (fuzzy search)"),
    AgentAction("send", "ctrl+s", "send", "Send", "Send the reply (puts it in the outbox)",
                footer=False, priority=True),
    AgentAction("resolve", "e", "resolve", "Resolve", "Resolve the mention"),
    AgentAction("reopen", "o", "reopen", "Reopen",
                "Reopen a pending, snoozed or resolved mention", footer=False),
    AgentAction("snooze", "s", "snooze", "Snooze", "Snooze until a time; it comes back when due"),
    AgentAction("assign", "a", "assign", "Assign me", "Assign the mention to me (again: unassign)"),
    AgentAction("note", "n", "note", "Note", "Add an internal note on the customer"),
    AgentAction("tag", "number_sign", "tag", "Tags", "Edit the mention's tags", footer=False),
    AgentAction("links", "l", "links", "Links",
                "Links in the post: http(s) opens after a confirmation",
                footer=False),
    AgentAction("search", "slash", "search", "Search", "Full-text search: text and authors"),
    AgentAction("filter", "f", "filter", "Filter", "Filter by status, channel, assignee, tag"),
    AgentAction("back", "escape", "back", "Back", "Close the composer or detail, clear search",
                footer=False),
    AgentAction("quit", "q", "quit", "Quit", "Quit Comptoir"),
    AgentAction("spam", "x", "toggle_spam", "Spam",
                "Spam / not spam: to the spam lane and back (logged)", footer=False),
    AgentAction("crisis", "C", "crisis", "Crisis",
                "Crisis view: spiking topic, bulk holding reply",
                footer=False),
    AgentAction("pin_note", "P", "pin_note", "Pin note",
                "Pin a note every agent sees (empty: unpin)", footer=False),
    AgentAction("listening", "w", "listening", "Listening",
                "Listening: posts about us and competitors", footer=False),
    AgentAction("stats", "S", "stats", "Stats", "Stats: volume, response, SLA, backlog, agents",
                footer=False),
)

# Bound on the crisis view (console/screens/crisis.py); bulk reply there reuses "reply".
CRISIS_ACTIONS: Final = (
    AgentAction("toggle_select", "space", "toggle_select", "Select",
                "Crisis view: select or unselect the mention"),
    AgentAction("select_all", "A", "select_all", "Select all",
                "Crisis view: select all listed (again: none)"),
)

# Bound on the listening view (console/screens/listening.py).
LISTENING_ACTIONS: Final = (
    AgentAction("promote", "p", "promote", "Promote",
                "Listening: put the result in the queue"),
)

# Bound on the App (it works on every screen); listed with the rest in help.
PALETTE: Final = AgentAction("palette", "ctrl+p", "command_palette", "Palette",
                             "Command palette: every action by name", footer=False, priority=True)

# Bound on the reply composer; listed for help.
COMPOSER_ACTIONS: Final = (
    AgentAction("next_field", "ctrl+f", "next_field", "Next field",
                "In the composer: select the next {field} to fill", footer=False),
)

ALL_ACTIONS: Final = (*QUEUE_MOVES, *SCREEN_ACTIONS, *COMPOSER_ACTIONS, *CRISIS_ACTIONS,
                      *LISTENING_ACTIONS, PALETTE)

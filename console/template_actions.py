"""Templates with actions (macros): changes applied to the mention when the reply is sent.

A template body may start with one line of actions; the rest is the reply::

    actions: tag=refund tag=vip status=resolved priority=3
    Bonjour {customer.first_name}, le remboursement de {order_id} est lancé. {agent.signature}

Actions, separated by spaces: ``tag=NAME`` (repeatable: tags added to the mention's),
``status=new|open|pending|resolved``, ``priority=N`` (0-99), ``snooze=DURATION`` (``45m``,
``2h``, ``1d``, ``1h30m``; not with ``status``). The line is stored in the body itself, so the
templates table needs no new column, an exported template keeps its actions, and a template
without the line is exactly what it was.

On send, the screen queues the reply and then applies the actions through
`Store.apply_actions` in one call, each logged in the events log with the template's name.
Pure domain code: no Textual.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from db.models import MentionActions, Status

PREFIX: Final = "actions:"
MAX_PRIORITY: Final = 99
MAX_SNOOZE: Final = 30 * 86_400
_SETTABLE: Final = ("new", "open", "pending", "resolved")
_DURATION: Final = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?")
_TAG: Final = re.compile(r"[^\s|#,]{1,40}")


class TemplateActionError(ValueError):
    """The actions line cannot be used; `problems` lists every issue found."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("; ".join(self.problems))


def parse_duration(text: str) -> int | None:
    """'45m', '2h', '1d', '1h30m' -> seconds; None if unreadable or zero."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None or not any(match.groups()):
        return None
    days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    seconds = days * 86_400 + hours * 3600 + minutes * 60
    return seconds or None


def split_actions(body: str) -> tuple[MentionActions, str]:
    """(actions, reply body) of a template body; no actions line: (empty actions, body).

    Raises TemplateActionError listing every problem of a malformed actions line."""
    first, newline, rest = body.partition("\n")
    if not first.strip().lower().startswith(PREFIX):
        return MentionActions(), body
    return parse_actions(first.strip()[len(PREFIX):]), rest if newline else ""


def parse_actions(text: str) -> MentionActions:
    problems: list[str] = []
    tags: list[str] = []
    status: Status | None = None
    priority: int | None = None
    snooze: int | None = None
    for item in text.replace(",", " ").split():
        key, eq, value = item.partition("=")
        key = key.lower()
        if not eq or not value:
            problems.append(f"{item!r}: expected name=value (tag, status, priority, snooze)")
        elif key == "tag":
            tag = value.lstrip("#")
            if not _TAG.fullmatch(tag):
                problems.append(f"tag={value}: a tag is 1-40 characters, no spaces, | or #")
            elif tag not in tags:
                tags.append(tag)
        elif key == "status":
            if value.lower() not in _SETTABLE:
                problems.append(f"status={value}: expected one of {', '.join(_SETTABLE)} "
                                "(use snooze=DURATION to snooze)")
            else:
                status = Status(value.lower())
        elif key == "priority":
            if not value.isdigit() or int(value) > MAX_PRIORITY:
                problems.append(f"priority={value}: expected a whole number 0-{MAX_PRIORITY}")
            else:
                priority = int(value)
        elif key == "snooze":
            seconds = parse_duration(value)
            if seconds is None or seconds > MAX_SNOOZE:
                problems.append(f"snooze={value}: expected a duration such as 45m, 2h, 1d "
                                "(at most 30d)")
            else:
                snooze = seconds
        else:
            problems.append(f"{key!r}: unknown action (expected tag, status, priority, snooze)")
    if status is not None and snooze is not None:
        problems.append("status and snooze together: a snooze is a status, keep one")
    if problems:
        raise TemplateActionError(problems)
    return MentionActions(tuple(tags), status, priority, snooze)


def describe(actions: MentionActions) -> str:
    """"tag #refund, status resolved, priority 3" for the agent (empty: no actions)."""
    parts = [f"tag #{tag}" for tag in actions.add_tags]
    if actions.status is not None:
        parts.append(f"status {actions.status.value}")
    if actions.priority is not None:
        parts.append(f"priority {actions.priority}")
    if actions.snooze_seconds is not None:
        parts.append(f"snooze {_duration_text(actions.snooze_seconds)}")
    return ", ".join(parts)


def _duration_text(seconds: int) -> str:
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    return "".join(f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n)

"""console.template_actions: the actions line of a template body."""

from __future__ import annotations

import pytest

from console.template_actions import (
    TemplateActionError,
    describe,
    parse_duration,
    split_actions,
)
from console.templates import free_fields
from db.models import MentionActions, Status


def test_a_body_without_actions_is_unchanged() -> None:
    body = "Bonjour {customer.first_name}, actions: rien à faire."
    assert split_actions(body) == (MentionActions(), body)
    assert not MentionActions()


def test_the_actions_line_is_split_from_the_reply() -> None:
    actions, body = split_actions(
        "Actions: tag=refund tag=#vip, status=resolved priority=3\nBonjour {customer.first_name}"
    )
    assert actions == MentionActions(("refund", "vip"), Status.RESOLVED, 3, None)
    assert body == "Bonjour {customer.first_name}"
    assert free_fields(body) == ()  # the actions line never reaches the renderer
    assert describe(actions) == "tag #refund, tag #vip, status resolved, priority 3"


def test_snooze() -> None:
    actions, body = split_actions("actions: snooze=1h30m\nHi")
    assert actions.snooze_seconds == 5400 and body == "Hi"
    assert describe(actions) == "snooze 1h30m"


@pytest.mark.parametrize(("text", "seconds"), [("45m", 2700), ("2h", 7200), ("1d", 86400),
                                               ("1H30M", 5400), ("0m", None), ("soon", None),
                                               ("", None)])
def test_durations(text: str, seconds: int | None) -> None:
    assert parse_duration(text) == seconds


def test_every_problem_is_listed() -> None:
    with pytest.raises(TemplateActionError) as caught:
        split_actions("actions: status=snoozed priority=high tag=a|b color=red snooze=90d "
                      "tag=\nHi")
    assert caught.value.problems == (
        "status=snoozed: expected one of new, open, pending, resolved (use snooze=DURATION to "
        "snooze)",
        "priority=high: expected a whole number 0-99",
        "tag=a|b: a tag is 1-40 characters, no spaces, | or #",
        "'color': unknown action (expected tag, status, priority, snooze)",
        "snooze=90d: expected a duration such as 45m, 2h, 1d (at most 30d)",
        "'tag=': expected name=value (tag, status, priority, snooze)",
    )


def test_status_and_snooze_together_are_refused() -> None:
    with pytest.raises(TemplateActionError, match="a snooze is a status"):
        split_actions("actions: status=open snooze=1h\nHi")

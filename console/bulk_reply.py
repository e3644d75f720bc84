"""Crisis bulk reply: one holding statement, personalised for each selected mention.

`prepare_bulk_replies` renders the template once per mention with that customer's variables
(first name, handle, channel) and the agent's (first name, signature), fills the free fields the
agent typed once for all (say ``{eta}``), makes sure every reply is signed, and checks each one
against its channel's length rule. What cannot go out as is (a placeholder left, too long, the
mention already answered meanwhile) is skipped with a reason rather than sent half-right.

Queuing is one `Store.queue_replies` transaction; the outbox sender paces the actual sends by
each channel's rate limits. Domain code: no Textual.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from console.config import AgentConfig
from console.lengths import reply_length
from console.templates import TemplateContext, render
from db.models import ACTIVE_STATUSES
from db.store import Store

# Words in a template's name that mark a holding statement (listed first in the crisis picker).
HOLDING_WORDS: Final = ("holding", "attente")


def is_holding(name: str) -> bool:
    lowered = name.casefold()
    return any(word in lowered for word in HOLDING_WORDS)


@dataclass(frozen=True, slots=True)
class BulkPlan:
    replies: tuple[tuple[int, str], ...] = ()  # (mention id, personalised text)
    skipped: tuple[tuple[int, str], ...] = field(default_factory=tuple)  # (mention id, why)


def signed(text: str, agent: AgentConfig) -> str:
    """The reply signed with the agent's name: the template's own {agent.signature} or
    {agent.first_name} counts; otherwise the signature (or first name) is appended."""
    signature = agent.signature.strip() or agent.first_name.strip()
    if not signature or signature in text or (agent.first_name and agent.first_name in text):
        return text
    return f"{text.rstrip()} {signature}"


async def prepare_bulk_replies(
    store: Store,
    mention_ids: Sequence[int],
    body: str,
    agent: AgentConfig,
    fields: Mapping[str, str] | None = None,
) -> BulkPlan:
    replies: list[tuple[int, str]] = []
    skipped: list[tuple[int, str]] = []
    for mention_id in dict.fromkeys(mention_ids):
        mention = await store.mention(mention_id)
        if mention is None:
            skipped.append((mention_id, "no longer exists"))
            continue
        if mention.status not in ACTIVE_STATUSES:
            skipped.append((mention_id, f"already {mention.status.value}"))
            continue
        card = await store.customer_card(mention.customer_id)
        customer = card.customer if card is not None else None
        context = TemplateContext.for_mention(
            mention, customer, agent_name=agent.name, agent_first_name=agent.first_name,
            agent_signature=agent.signature,
        )
        rendered = render(body, context, fields or {})
        if rendered.missing:
            names = ", ".join("{" + name + "}" for name in rendered.missing)
            skipped.append((mention_id, f"unfilled {names}"))
            continue
        text = signed(rendered.text.strip(), agent)
        length = reply_length(mention.channel, text)
        if length.over:
            skipped.append((mention_id, f"too long for {mention.channel}"))
            continue
        replies.append((mention_id, text))
    return BulkPlan(tuple(replies), tuple(skipped))

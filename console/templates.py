"""Reply templates: `{variable}` substitution for canned answers, with free fields to fill.

A body such as ``"Bonjour {customer.first_name}, votre commande {order_id} ... {agent.signature}"``
mixes *known* variables (filled from the mention, the customer and the agent) and *free* fields
(``{order_id}``) that only the agent can fill. A free field with no value stays in the rendered
text as ``{order_id}``, so the agent sees where to type; `unfilled()` finds what is left when the
agent tries to send, and the screen refuses to send while anything is.

Rendering is a single pass over the *template*: substituted values are never scanned again, so a
customer called ``"{order_id}"`` or ``"[bold]"`` comes out literally. ``{{`` and ``}}`` write
literal braces. A malformed body (unknown dotted variable, lone brace, ``{order id}``) is a
`TemplateError` listing every problem, so the template editor can show them all at once.

No Textual import here (import-linter contract): this is domain logic, tested on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from console.untrusted import clean
from db.models import Customer, Identity, Mention

# `customer.first_name`, `order_id`: identifiers, optionally dotted. Anything else between braces
# (spaces, punctuation) is an authoring mistake we report rather than guess about.
_NAME: Final = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_NAME_RE: Final = re.compile(_NAME)

# One token of a template body. Order matters: escapes before placeholders, lone braces last.
_TOKEN: Final = re.compile(r"(?P<open>\{\{)|(?P<close>\}\})|\{(?P<inner>[^{}]*)\}|(?P<lone>[{}])")

# A placeholder left in composer text (after rendering, so escapes no longer apply).
_PLACEHOLDER: Final = re.compile(r"\{(" + _NAME + r")\}")

KNOWN_VARIABLES: Final = (
    "customer.first_name",
    "customer.name",
    "customer.handle",
    "agent.name",
    "agent.first_name",
    "agent.signature",
    "channel",
)

# What `{channel}` says in a reply: the network's own name, not our internal id.
CHANNEL_LABELS: Final = {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky"}

# Values that must stay on one line (a name with a newline would break the greeting).
_SINGLE_LINE: Final = frozenset(
    {
        "customer.first_name",
        "customer.name",
        "customer.handle",
        "agent.name",
        "agent.first_name",
        "channel",
    }
)


class TemplateError(ValueError):
    """A template body that cannot be rendered; `problems` lists every issue found."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True, slots=True)
class TemplateContext:
    """Everything the known variables can draw on. Blank strings mean "not known"."""

    customer_first_name: str = ""
    customer_display_name: str = ""
    customer_handle: str = ""
    agent_name: str = ""
    agent_first_name: str = ""
    agent_signature: str = ""
    channel: str = ""

    @classmethod
    def from_rows(
        cls,
        customer: Customer | None,
        identity: Identity | None = None,
        *,
        agent_name: str = "",
        agent_first_name: str | None = None,
        agent_signature: str = "",
        channel: str | None = None,
    ) -> TemplateContext:
        """Build a context from db rows. The handle and channel come from the identity the
        mention arrived on; the agent's first name defaults to the first word of their name."""
        if agent_first_name is None:
            parts = agent_name.split()
            agent_first_name = parts[0] if parts else ""
        return cls(
            customer_first_name=customer.first_name if customer else "",
            customer_display_name=customer.display_name if customer else "",
            customer_handle=identity.handle if identity else "",
            agent_name=agent_name,
            agent_first_name=agent_first_name,
            agent_signature=agent_signature,
            channel=channel if channel is not None else (identity.channel if identity else ""),
        )

    @classmethod
    def for_mention(
        cls,
        mention: Mention,
        customer: Customer | None,
        *,
        agent_name: str,
        agent_first_name: str,
        agent_signature: str,
    ) -> TemplateContext:
        """The context of a reply to `mention` (single or bulk): the customer's names, or the
        author's name as the mention gave it when the customer row is gone."""
        return cls(
            customer_first_name=customer.first_name if customer else mention.author_name,
            customer_display_name=customer.display_name if customer else mention.author_name,
            customer_handle=mention.author_handle,
            agent_name=agent_name,
            agent_first_name=agent_first_name,
            agent_signature=agent_signature,
            channel=mention.channel,
        )

    def value(self, name: str) -> str:
        """The value of a known variable ("" when unknown). Raises KeyError for other names."""
        if name == "customer.first_name":
            # A greeting with no name reads worse than one with the full name: fall back.
            return self.customer_first_name or self.customer_display_name
        if name == "customer.name":
            return self.customer_display_name or self.customer_first_name
        if name == "customer.handle":
            return self.customer_handle
        if name == "agent.name":
            return self.agent_name
        if name == "agent.first_name":
            return self.agent_first_name
        if name == "agent.signature":
            return self.agent_signature
        if name == "channel":
            return CHANNEL_LABELS.get(self.channel, self.channel)
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered body. `missing` names the placeholders left visible in `text`, in order."""

    text: str
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing


def _inert(value: str, *, single_line: bool) -> str:
    """A substituted value made inert by the one untrusted-text rule (escape sequences removed
    whole, controls dropped, bidi shown): values come from customers' profiles."""
    return clean(value, keep_newlines=not single_line)


def _parse(body: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Split a body into ("text", s) and ("var", name) tokens, collecting every problem."""
    tokens: list[tuple[str, str]] = []
    problems: list[str] = []
    pos = 0
    for match in _TOKEN.finditer(body):
        if match.start() > pos:
            tokens.append(("text", body[pos : match.start()]))
        pos = match.end()
        if match.group("open"):
            tokens.append(("text", "{"))
        elif match.group("close"):
            tokens.append(("text", "}"))
        elif match.group("lone"):
            problems.append(
                f"lone {match.group('lone')!r} at position {match.start()}: "
                "write {{ or }} for a literal brace"
            )
        else:
            inner = match.group("inner")
            if not _NAME_RE.fullmatch(inner):
                problems.append(
                    f"invalid placeholder {{{inner}}} at position {match.start()}: "
                    "use a name like {order_id}, or {{ and }} for literal braces"
                )
            elif "." in inner and inner not in KNOWN_VARIABLES:
                problems.append(
                    f"unknown variable {{{inner}}} at position {match.start()}: "
                    f"known variables are {', '.join(KNOWN_VARIABLES)}"
                )
            else:
                tokens.append(("var", inner))
    if pos < len(body):
        tokens.append(("text", body[pos:]))
    return tokens, problems


def check(body: str) -> tuple[str, ...]:
    """Every problem in a template body (empty when it renders), for the template editor."""
    return tuple(_parse(body)[1])


def free_fields(body: str) -> tuple[str, ...]:
    """The free fields of a body (names the agent must fill), in first-appearance order."""
    tokens, problems = _parse(body)
    if problems:
        raise TemplateError(problems)
    names = (value for kind, value in tokens if kind == "var" and value not in KNOWN_VARIABLES)
    return tuple(dict.fromkeys(names))


def render(body: str, ctx: TemplateContext, fields: Mapping[str, str] | None = None) -> Rendered:
    """Fill `body` in a single pass. Raises `TemplateError` only for a malformed body.

    A placeholder with no (or a blank) value is written back as ``{name}`` and listed in
    `missing`: free fields the agent has not filled yet, and known variables we have no data for
    (a customer with no name), which the agent must then write by hand.
    """
    tokens, problems = _parse(body)
    if problems:
        raise TemplateError(problems)
    fields = fields or {}
    out: list[str] = []
    missing: dict[str, None] = {}
    for kind, value in tokens:
        if kind == "text":
            out.append(value)
            continue
        raw = ctx.value(value) if value in KNOWN_VARIABLES else fields.get(value, "")
        filled = _inert(raw or "", single_line=value in _SINGLE_LINE)
        if filled.strip():
            out.append(filled)
        else:
            out.append("{" + value + "}")
            missing[value] = None
    return Rendered("".join(out), tuple(missing))


def find_placeholders(text: str) -> tuple[str, ...]:
    """Every ``{name}`` still present in composer text, deduplicated, in order of appearance."""
    return tuple(dict.fromkeys(m.group(1) for m in _PLACEHOLDER.finditer(text)))


def unfilled(text: str, names: Iterable[str] | None = None) -> tuple[str, ...]:
    """The placeholders that make `text` unsendable.

    With `names` (the `Rendered.missing` of the template the draft came from), only those count:
    a customer value that happens to look like ``{x}`` then does not block the reply. Without
    it, any ``{name}`` counts, which errs on the side of not sending a half-filled template.
    """
    found = find_placeholders(text)
    if names is None:
        return found
    wanted = set(names)
    return tuple(name for name in found if name in wanted)

"""Template rendering: known variables, free fields, escapes, errors, and no re-expansion."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.templates import (
    KNOWN_VARIABLES,
    TemplateContext,
    TemplateError,
    check,
    find_placeholders,
    free_fields,
    render,
    unfilled,
)
from console.untrusted import clean
from db.models import Customer, Identity

CTX = TemplateContext(
    customer_first_name="Léa",
    customer_display_name="Léa Martin",
    customer_handle="@lea_m",
    agent_name="Marc Dupont",
    agent_first_name="Marc",
    agent_signature="— Marc, service client",
    channel="mastodon",
)

REFUND = (
    "Bonjour {customer.first_name}, le remboursement de la commande {order_id} est en cours. "
    "{agent.signature}"
)


def test_known_variables_and_free_field_filled() -> None:
    out = render(REFUND, CTX, {"order_id": "A-1234"})
    assert out.text == (
        "Bonjour Léa, le remboursement de la commande A-1234 est en cours. — Marc, service client"
    )
    assert out.missing == ()
    assert out.complete


def test_free_field_left_visible_and_missing() -> None:
    out = render(REFUND, CTX, {})
    assert "{order_id}" in out.text
    assert out.missing == ("order_id",)
    assert unfilled(out.text, out.missing) == ("order_id",)


def test_blank_field_counts_as_missing() -> None:
    assert render("n° {order_id}", CTX, {"order_id": "   "}).missing == ("order_id",)


def test_every_known_variable() -> None:
    body = " | ".join("{" + name + "}" for name in KNOWN_VARIABLES)
    out = render(body, CTX)
    assert out.text == (
        "Léa | Léa Martin | @lea_m | Marc Dupont | Marc | — Marc, service client | Mastodon"
    )


def test_first_name_falls_back_to_display_name_then_missing() -> None:
    ctx = TemplateContext(customer_display_name="ACME Corp")
    assert render("Bonjour {customer.first_name}", ctx).text == "Bonjour ACME Corp"
    out = render("Bonjour {customer.first_name}", TemplateContext())
    assert out.text == "Bonjour {customer.first_name}"
    assert out.missing == ("customer.first_name",)


def test_escaped_braces() -> None:
    out = render("{{literal}} and {{ {order_id} }}", CTX, {"order_id": "7"})
    assert out.text == "{literal} and { 7 }"
    assert out.missing == ()


def test_unknown_dotted_variable_is_a_clear_error() -> None:
    with pytest.raises(TemplateError) as info:
        render("Hi {customer.email} and {agent.nickname}", CTX)
    problems = info.value.problems
    assert len(problems) == 2
    assert "{customer.email}" in problems[0]
    assert "known variables are" in problems[0]


@pytest.mark.parametrize(
    "body",
    ["Hi {order id}", "Hi {", "Hi }", "Hi {customer.first_name", "{}", "{1abc}"],
)
def test_malformed_bodies(body: str) -> None:
    assert check(body)
    with pytest.raises(TemplateError):
        render(body, CTX)


def test_check_accepts_good_body() -> None:
    assert check(REFUND) == ()


def test_free_fields_in_order_without_known() -> None:
    body = "{order_id} {customer.first_name} {date} {order_id}"
    assert free_fields(body) == ("order_id", "date")


def test_values_are_not_re_expanded() -> None:
    ctx = TemplateContext(customer_first_name="{order_id}", agent_signature="[bold]{{x}}[/]")
    out = render("Hi {customer.first_name}, {order_id}. {agent.signature}", ctx, {"order_id": "9"})
    assert out.text == "Hi {order_id}, 9. [bold]{{x}}[/]"
    assert out.missing == ()


def test_control_characters_dropped_from_values() -> None:
    ctx = TemplateContext(customer_first_name="Ev\x1b]0;pwned\x07e\nline")
    # The escape sequence goes whole (payload included), as everywhere outside text is shown.
    assert render("{customer.first_name}", ctx).text == "Eve line"


def test_signature_keeps_newlines() -> None:
    ctx = TemplateContext(agent_signature="Marc\r\nService client")
    assert render("{agent.signature}", ctx).text == "Marc\nService client"


def test_from_rows() -> None:
    customer = Customer(1, "Léa Martin", "Léa", 10, (), 0)
    identity = Identity(3, 1, "bluesky", "lea.bsky.social", "Léa", 10, None)
    ctx = TemplateContext.from_rows(
        customer, identity, agent_name="Marc Dupont", agent_signature="Marc"
    )
    assert ctx.agent_first_name == "Marc"
    assert ctx.channel == "bluesky"
    assert render("{customer.handle} via {channel}", ctx).text == "lea.bsky.social via Bluesky"


def test_find_placeholders_and_unfilled() -> None:
    text = "Commande {order_id}, le {date}, encore {order_id}; {agent.name}; { x }; {{y}}"
    assert find_placeholders(text) == ("order_id", "date", "agent.name", "y")
    assert unfilled(text) == ("order_id", "date", "agent.name", "y")
    assert unfilled(text, ("date",)) == ("date",)
    assert unfilled("Tout est rempli.") == ()


# Values from outside: any text, control characters included (they are dropped, not obeyed).
_values = st.text(max_size=40)
_clean_values = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=40
).filter(lambda s: s.strip())


@given(first=_values, name=_values, handle=_values, sig=_values, field=_values)
def test_render_never_raises_on_values(
    first: str, name: str, handle: str, sig: str, field: str
) -> None:
    ctx = TemplateContext(
        customer_first_name=first,
        customer_display_name=name,
        customer_handle=handle,
        agent_signature=sig,
        channel=field,
    )
    body = "{customer.first_name} {customer.name} {customer.handle} {channel} {x} {agent.signature}"
    out = render(body, ctx, {"x": field})
    assert isinstance(out.text, str)
    assert set(out.missing) <= {
        "customer.first_name",
        "customer.name",
        "customer.handle",
        "channel",
        "x",
        "agent.signature",
        "agent.name",
    }


@given(first=_clean_values, field=_clean_values)
def test_values_inserted_literally(first: str, field: str) -> None:
    ctx = TemplateContext(customer_first_name=first)
    out = render("<{customer.first_name}|{order_id}>", ctx, {"order_id": field})
    # Values pass through the one untrusted-text rule and are never expanded again.
    assert out.text == f"<{clean(first)}|{clean(field, keep_newlines=True)}>"
    assert out.missing == ()


@given(body=st.text(max_size=60))
def test_arbitrary_body_renders_or_raises_template_error(body: str) -> None:
    try:
        out = render(body, CTX, {})
    except TemplateError as error:
        assert error.problems
    else:
        # Every placeholder left in the output was reported missing, or came from an escape.
        assert isinstance(out.text, str)

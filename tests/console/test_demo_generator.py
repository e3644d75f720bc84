"""Demo data: deterministic, realistic in its mix, and loadable by the real Store."""

from __future__ import annotations

import dataclasses
from collections import Counter
from itertools import islice
from pathlib import Path

import pytest

from console import templates as tpl
from console.demo import phrases
from console.demo.generator import (
    BULK_FIELD_ORDER,
    CRISIS_WINDOW,
    TEMPLATE_FREE_FIELDS,
    TEMPLATE_VARIABLES,
    DemoDataset,
    bulk_customer_count,
    bulk_customers,
    bulk_mentions,
    demo_customers,
    demo_dataset,
    demo_templates,
)
from console.lengths import reply_length
from console.sla import sla_state
from db.models import CHANNELS, NewMention, QueueFilter, Status
from db.store import Store

NOW = 1_750_000_000
ACTIVE = (Status.NEW, Status.OPEN)


@pytest.fixture(scope="module")
def demo() -> DemoDataset:
    return demo_dataset(42, NOW)


def _active(ds: DemoDataset) -> list[NewMention]:
    return [m for m in ds.mentions if m.status in ACTIVE]


# --- determinism ------------------------------------------------------------------------------


def test_same_seed_same_data(demo: DemoDataset) -> None:
    assert demo_dataset(42, NOW) == demo


def test_different_seed_different_data(demo: DemoDataset) -> None:
    other = demo_dataset(43, NOW)
    assert [m.text for m in other.mentions] != [m.text for m in demo.mentions]
    assert [c.display_name for c in other.customers] != [c.display_name for c in demo.customers]


def test_now_only_shifts_times(demo: DemoDataset) -> None:
    # The data is laid out relative to `now`: a later start gives the same rows, later.
    later = demo_dataset(42, NOW + 3600)
    assert [m.text for m in later.mentions] == [m.text for m in demo.mentions]
    assert all(
        b.created_at == a.created_at + 3600
        for a, b in zip(demo.mentions, later.mentions, strict=True)
    )
    assert later.customers == demo.customers


def test_demo_customers_match_dataset(demo: DemoDataset) -> None:
    assert demo_customers(42) == demo.customers


# --- counts and mix ---------------------------------------------------------------------------


def test_sizes(demo: DemoDataset) -> None:
    assert 1800 <= len(demo.mentions) <= 2300
    assert 280 <= len(demo.customers) <= 320
    assert 150 <= len(_active(demo)) <= 260


def test_channels_and_languages(demo: DemoDataset) -> None:
    channels = Counter(m.channel for m in demo.mentions)
    assert set(channels) == set(CHANNELS)
    assert min(channels.values()) > 0.2 * len(demo.mentions)
    langs = Counter(m.lang for m in demo.mentions)
    assert set(langs) == {"fr", "en"}
    assert langs["fr"] > langs["en"] > 0.2 * len(demo.mentions)


def test_remote_ids_unique_and_threads_resolve(demo: DemoDataset) -> None:
    keys = [(m.channel, m.remote_id) for m in demo.mentions]
    assert len(set(keys)) == len(keys)
    ids = {m.remote_id for m in demo.mentions}
    threaded = [m for m in demo.mentions if m.thread_id is not None]
    assert len(threaded) > 100
    for m in threaded:
        assert m.thread_id in ids and m.in_reply_to in ids


def test_times_are_coherent(demo: DemoDataset) -> None:
    for m in demo.mentions:
        assert m.created_at <= (m.received_at or m.created_at) <= NOW
        for t in (m.replied_at, m.resolved_at):
            assert t is None or m.created_at <= t <= NOW
        assert (m.status == Status.RESOLVED) == (m.resolved_at is not None)
    assert [m.created_at for m in demo.mentions] == sorted(m.created_at for m in demo.mentions)


def test_crisis_burst_in_last_two_hours(demo: DemoDataset) -> None:
    burst = [m for m in demo.mentions if phrases.CRISIS_HASHTAG in m.text]
    recent = [m for m in burst if m.created_at >= NOW - CRISIS_WINDOW]
    assert 70 <= len(recent) <= 90
    assert all("crisis" in m.tags and m.status == Status.NEW for m in recent)
    # A burst, not a trickle: most of it in the last half hour.
    assert sum(m.created_at >= NOW - 1800 for m in recent) > len(recent) / 2


def test_spam_troll_delight_present(demo: DemoDataset) -> None:
    # New rows carry no spam/troll/delight tag (triage finds them); `labels` says what they are.
    by_key = {(m.channel, m.remote_id): m for m in demo.mentions}
    labelled = {key: by_key[key] for key in demo.labels}
    active = {(m.channel, m.remote_id) for m in _active(demo)}
    for kind in ("spam", "troll", "delight"):
        keys = [key for key, label in demo.labels.items() if label == kind]
        assert sum(key in active for key in keys) >= 5, kind
        assert all(kind not in labelled[key].tags for key in keys if key in active), kind
    all_tags = Counter(t for m in demo.mentions for t in m.tags)
    for tag in ("spam", "troll", "delight"):
        assert all_tags[tag] > 0, tag  # handled in the history: an agent tagged them
    spam = [labelled[k] for k, label in demo.labels.items() if label == "spam"]
    assert any(m.text.startswith("http") and " " not in m.text for m in spam)  # link only
    assert any("BTC" in m.text or "Crypto" in m.text or "$" in m.text for m in spam)
    trolls = Counter((labelled[k].author_handle, labelled[k].text)
                     for k, label in demo.labels.items() if label == "troll")
    assert max(trolls.values()) >= 3  # the same insult, again and again
    # Throwaway accounts say they are days old; customers' accounts are years old.
    for key, label in demo.labels.items():
        m = labelled[key]
        assert m.author_created_at is not None
        age = m.created_at - m.author_created_at
        assert (age < 7 * 86400) == (label != "delight"), (label, age)


def test_customers_have_histories_and_some_two_channels(demo: DemoDataset) -> None:
    two = [c for c in demo.customers if len({i.channel for i in c.identities}) == 2]
    assert len(two) >= 30
    by_handle = {
        (i.channel, i.handle): n for n, c in enumerate(demo.customers) for i in c.identities
    }
    assert len(by_handle) == sum(len(c.identities) for c in demo.customers)  # handles unique
    answered = Counter(
        by_handle[(m.channel, m.author_handle)]
        for m in demo.mentions
        if m.status == Status.RESOLVED
        and m.reply_text
        and (m.channel, m.author_handle) in by_handle
    )
    assert sum(n >= 2 for n in answered.values()) > 0.9 * len(demo.customers)
    # Customers with two networks wrote on both.
    both = 0
    for c in two:
        handles = {(i.channel, i.handle) for i in c.identities}
        used = {(m.channel, m.author_handle) for m in demo.mentions} & handles
        both += len(used) == 2
    assert both > len(two) / 2


def test_high_audience_customers(demo: DemoDataset) -> None:
    big = [c for c in demo.customers if any(i.audience >= 50_000 for i in c.identities)]
    assert 3 <= len(big) <= 10
    assert all(i.audience <= 500_000 for c in demo.customers for i in c.identities)
    assert all("vip" in c.tags for c in big)


def test_sla_column_is_lively(demo: DemoDataset) -> None:
    levels = Counter(sla_state(m.first_reply_due, NOW).level for m in _active(demo))
    total = sum(levels.values())
    assert levels["breach"] >= 0.05 * total
    assert levels["warn"] >= 0.05 * total
    assert levels["ok"] > 0.5 * total
    assert levels["none"] == 0


def test_pending_snoozed_assigned(demo: DemoDataset) -> None:
    by_status = Counter(m.status for m in demo.mentions)
    assert by_status[Status.PENDING] >= 20
    assert 3 <= by_status[Status.SNOOZED] <= 10
    for m in demo.mentions:
        if m.status == Status.PENDING:
            assert m.reply_text and m.replied_at is not None and m.reply_author
        if m.status == Status.SNOOZED:
            assert m.snoozed_until is not None and NOW < m.snoozed_until <= NOW + 3600
    assert sum(m.assignee is not None for m in _active(demo)) >= 10


def test_text_is_rich(demo: DemoDataset) -> None:
    texts = [m.text for m in demo.mentions]
    assert any(c in t for t in texts for c in "éèàçô")
    assert any("😡" in t or "🤬" in t for t in texts)
    assert any("https://" in t for t in texts)
    assert sum("@" in t for t in texts) > len(texts) / 2
    assert any("remboursement" in t for t in texts)
    assert all(t == t.strip() and "  " not in t for t in texts)


def test_hostile_strings_for_trainers(demo: DemoDataset) -> None:
    texts = [m.text for m in demo.mentions if m.status == Status.NEW]
    assert any("[bold]not bold[/]" in t for t in texts)
    assert any("[@click=app.quit]" in t for t in texts)
    assert any("\x1b[2J" in t for t in texts)
    assert any(m.author_name == phrases.HOSTILE_AUTHOR_NAME for m in demo.mentions)


# --- templates --------------------------------------------------------------------------------


def test_templates_use_only_known_variables() -> None:
    items = demo_templates()
    assert 10 <= len(items) <= 16
    assert len({(name, lang) for name, lang, _ in items}) == len(items)
    assert {lang for _, lang, _ in items} == {"fr", "en"}
    for name, _lang, body in items:
        assert tpl.check(body) == (), name
        known = {v for v in tpl.find_placeholders(body) if v in tpl.KNOWN_VARIABLES}
        assert known <= TEMPLATE_VARIABLES <= set(tpl.KNOWN_VARIABLES), name
        assert set(tpl.free_fields(body)) <= TEMPLATE_FREE_FIELDS, name
        assert known, name  # every template is personal


def test_templates_fit_the_smallest_limit_once_filled() -> None:
    ctx = tpl.TemplateContext(
        customer_first_name="Maëlys",
        customer_display_name="Maëlys Ó Súilleabháin",
        customer_handle="@maelys_osuilleabhain@piaille.fr",
        agent_name="Camille Roux",
        agent_first_name="Camille",
        agent_signature="^Camille",
    )
    fields = {
        "order_id": "FB-123456",
        "delay": "5 jours ouvrés",
        "eta": "14h30",
        "ticket_id": "T-9876",
    }
    for name, _lang, body in demo_templates():
        rendered = tpl.render(body, ctx, fields)
        assert rendered.complete, name
        assert not reply_length("x", rendered.text).over, name


def test_templates_cover_the_demo_workflows() -> None:
    bodies = " ".join(body for _, _, body in demo_templates())
    for needle in ("{order_id}", "remboursement", phrases.CRISIS_HASHTAG, "DM", "{ticket_id}"):
        assert needle in bodies


# --- bulk -------------------------------------------------------------------------------------


def test_bulk_field_order_matches_model() -> None:
    assert tuple(f.name for f in dataclasses.fields(NewMention)) == BULK_FIELD_ORDER


def test_bulk_counts_and_links() -> None:
    n = 20_000
    mentions = list(bulk_mentions(n, 5, NOW))
    customers = list(bulk_customers(n, 5))
    assert len(mentions) == n
    assert len(customers) == bulk_customer_count(n)
    handles = {(i.channel, i.handle) for c in customers for i in c.identities}
    assert len(handles) == sum(len(c.identities) for c in customers)
    assert all((m.channel, m.author_handle) in handles for m in mentions)
    assert len({(m.channel, m.remote_id) for m in mentions}) == n
    times = [m.created_at for m in mentions]
    assert times == sorted(times) and times[-1] <= NOW
    assert any(len(c.identities) == 2 for c in customers)


def test_bulk_statuses_mostly_resolved_with_active_backlog() -> None:
    mentions = list(bulk_mentions(50_000, 5, NOW))
    by_status = Counter(m.status for m in mentions)
    assert by_status[Status.RESOLVED] > 0.9 * len(mentions)
    active = [m for m in mentions if m.status in ACTIVE]
    assert 50 <= len(active) <= 1000
    assert by_status[Status.PENDING] > 0 and by_status[Status.SNOOZED] > 0
    levels = Counter(sla_state(m.first_reply_due, NOW).level for m in active)
    assert levels["ok"] > levels["breach"] > 0
    assert all(m.reply_text for m in mentions if m.status == Status.PENDING)
    assert Counter(m.lang for m in mentions).keys() == {"fr", "en"}
    assert Counter(m.channel for m in mentions).keys() == set(CHANNELS)


def test_bulk_is_deterministic() -> None:
    assert list(bulk_mentions(2000, 9, NOW)) == list(bulk_mentions(2000, 9, NOW))
    assert list(bulk_customers(2000, 9)) == list(bulk_customers(2000, 9))
    a = [m.author_handle for m in bulk_mentions(2000, 9, NOW)]
    b = [m.author_handle for m in bulk_mentions(2000, 10, NOW)]
    assert a != b


def test_bulk_streams_lazily_at_scale() -> None:
    # A million-row load must not build lists up front: taking the first rows is immediate
    # and the count is exact (speed itself is measured outside the test suite).
    first = list(islice(bulk_mentions(1_000_000, 1, NOW), 10))
    assert len(first) == 10
    assert sum(1 for _ in bulk_mentions(200_000, 1, NOW)) == 200_000


# --- with the real Store ----------------------------------------------------------------------


async def test_demo_dataset_loads_into_store(tmp_path: Path, demo: DemoDataset) -> None:
    store = await Store.open(tmp_path / "demo.db")
    try:
        loaded = await store.bulk_load(demo.customers, demo.mentions, now=NOW, first_reply_sla=3600)
        assert loaded == len(demo.mentions)
        for name, lang, body in demo_templates():
            await store.add_template(name, lang, body)
        assert len(await store.templates()) == len(demo_templates())
        counts = await store.counts()
        assert counts.total == len(demo.mentions)
        assert counts.active == len(_active(demo))
        assert await store.breached_count(NOW) > 0
        rows = await store.queue_window(QueueFilter(), limit=50)
        assert rows and all(r.status in ACTIVE for r in rows)
        # A customer on two networks has one card with both identities and a cross-channel
        # history including the agents' past replies.
        two = next(c for c in demo.customers if len(c.identities) == 2)
        handle = two.identities[0].handle
        hits = await store.queue_window(QueueFilter(status="all"), limit=5000)
        row = next(r for r in hits if r.author_handle == handle)
        card = await store.customer_card(row.customer_id)
        assert card is not None and len(card.identities) == 2
        history = await store.customer_history(row.customer_id, limit=200)
        assert {h.kind for h in history} == {"mention", "reply"}
    finally:
        await store.close()


async def test_bulk_loads_into_store(tmp_path: Path) -> None:
    n = 5000
    store = await Store.open(tmp_path / "bulk.db")
    try:
        loaded = await store.bulk_load(
            bulk_customers(n, 2), bulk_mentions(n, 2, NOW), now=NOW, first_reply_sla=3600
        )
        assert loaded == n
        counts = await store.counts()
        assert counts.total == n
        assert counts.by_status.get("resolved", 0) > 0.8 * n
        assert counts.active > 0
    finally:
        await store.close()

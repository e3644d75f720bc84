"""The demo's spam, trolls and happy customers are found by the real triage, not by tags: the
generator's answer key (`DemoDataset.labels`) is compared with what the Store kept."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from console import triage
from console.demo import phrases as P
from console.demo.generator import _fill, demo_dataset
from db.models import NewMention
from db.store import Store
from db.triage import TRIAGE_SPAM, TriageInput

NOW = 1_795_683_600


@pytest.mark.parametrize("seed", [7, 3])
async def test_demo_spam_trolls_and_delight_are_classified(tmp_path: Path, seed: int) -> None:
    store = await Store.open(tmp_path / "demo.db")
    try:
        triage.install(store)
        data = demo_dataset(seed, NOW)
        await store.bulk_load(data.customers, data.mentions, now=NOW, first_reply_sla=3600)
        rows = await store._rows(  # test-only peek: one pass over every row
            "SELECT channel, remote_id, status, triage_lane, triage_reasons FROM mentions"
        )
    finally:
        await store.close()
    outcome: Counter[tuple[str, str]] = Counter()
    for channel, remote_id, status, lane, reasons in rows:
        label = data.labels.get((channel, remote_id), "other")
        verdict = ("spam" if lane == TRIAGE_SPAM
                   else "delight" if reasons.startswith("delight:") else "main")
        active = status in ("new", "open")
        outcome[(label if label != "other" or not active else "other-active", verdict)] += 1
    spam_total = sum(n for (label, _), n in outcome.items() if label in ("spam", "troll"))
    spam_found = outcome[("spam", "spam")] + outcome[("troll", "spam")]
    assert spam_total == 30 + 16 + 4 * 2  # 30 spam, 16 trolls, 4 of them three times
    assert spam_found >= 0.95 * spam_total, outcome
    assert outcome[("delight", "delight")] >= 0.9 * 24, outcome
    # Nothing else lands in the spam lane; the delight view stays clean among active rows.
    assert outcome[("other", "spam")] + outcome[("other-active", "spam")] == 0, outcome
    assert outcome[("other-active", "delight")] <= 2, outcome


@pytest.mark.parametrize("template", P.SPAM_POSTS)
def test_every_spam_post_is_spam_even_without_account_age(template: str) -> None:
    # The live channel's spam comes from ordinary-looking authors: the text alone must tell.
    rng = random.Random(1)
    scorer = triage.TriageScorer()
    for lang in ("fr", "en"):
        text = _fill(template, rng, lang, "x")
        mention = NewMention("x", "1", "@someone", "Someone", text, NOW, lang=lang)
        assessment = scorer.assess(TriageInput(mention, None, 150, 0, 0))
        assert assessment.verdict == "spam", (text, assessment)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_crisis_posts_are_never_spam(lang: str) -> None:
    rng = random.Random(2)
    scorer = triage.TriageScorer()
    for template in P.CRISIS_POSTS[lang]:
        text = _fill(template, rng, lang, "x", city="Lyon 3e")
        mention = NewMention("x", "1", "@someone", "Someone", text, NOW, lang=lang, priority=2)
        assessment = scorer.assess(TriageInput(mention, None, 150, 5, 0))
        assert assessment.verdict == "main", (text, assessment)
        assert assessment.score >= 2

"""console.triage: each signal, its reason text, FR and EN, accents, and the verdicts."""

from __future__ import annotations

from typing import Any

import pytest

from console.triage import (
    DAY,
    TriageConfig,
    TriageScorer,
    audience_text,
    fold,
)
from db.models import NewMention
from db.triage import TRIAGE_MAIN, TRIAGE_SPAM, TriageInput

NOW = 1_795_683_600


def item(text: str, *, audience: int = 100, past: int = 0, recent: int = 0,
         recent_texts: tuple[str, ...] = (), config: TriageConfig | None = None,
         **kw: Any) -> tuple[TriageScorer, TriageInput]:
    fields: dict[str, Any] = {"channel": "x", "remote_id": "1", "author_handle": "@jean",
                              "author_name": "Jean", "created_at": NOW}
    fields.update(kw)
    mention = NewMention(text=text, **fields)
    return TriageScorer(config), TriageInput(mention, 1, audience, past, recent, recent_texts)


def assess(text: str, **kw: Any):  # type: ignore[no-untyped-def]
    scorer, inp = item(text, **kw)
    return scorer.assess(inp)


# --- priority signals --------------------------------------------------------------------------
def test_a_plain_question_scores_nothing() -> None:
    a = assess("@Fibrelle est-ce que la Box Pulse est compatible Wi-Fi 7 ?", lang="fr")
    assert (a.score, a.reasons, a.verdict) == (0, (), "main")


@pytest.mark.parametrize(("audience", "text", "points"), [
    (120_000, "large audience: 120k followers (+3)", 3),
    (12_500, "large audience: 12k followers (+2)", 2),
])
def test_audience(audience: int, text: str, points: int) -> None:
    a = assess("@Fibrelle hello", audience=audience)
    assert a.reasons == (text,) and a.score == points


def test_audience_threshold_comes_from_the_config() -> None:
    a = assess("hello", audience=600, config=TriageConfig(audience_threshold=500))
    assert a.reasons == ("large audience: 600 followers (+2)",)


def test_verified_account() -> None:
    assert assess("hello", author_verified=True).reasons == ("verified account (+1)",)
    assert assess("hello", author_verified=False).reasons == ()


@pytest.mark.parametrize(("text", "lang", "reason"), [
    ("Mon AVOCAT vous écrira", "fr", "keyword: avocat (+3)"),
    ("Je vous envoie une Mise en Démeure", "fr", "keyword: mise en demeure (+3)"),
    ("toujours pas de REMBOURSEMENT", "fr", "keyword: rembours (+1)"),
    ("My lawyer will call you", "en", "keyword: lawyer (+3)"),
    ("I want to cancel my contract", "en", "keyword: cancel (+2)"),
])
def test_keywords_fr_and_en_ignore_case_and_accents(text: str, lang: str, reason: str) -> None:
    assert reason in assess(text, lang=lang).reasons


def test_keywords_follow_the_mentions_language_and_both_when_unknown() -> None:
    assert assess("my lawyer", lang="fr").reasons == ()
    assert "keyword: lawyer (+3)" in assess("my lawyer", lang=None).reasons
    assert "keyword: avocat (+3)" in assess("mon avocat", lang="fr-CA").reasons


def test_keyword_points_are_capped() -> None:
    a = assess("avocat tribunal journaliste plainte", lang="fr")
    assert a.score == 5
    assert a.reasons[-1] == "keyword: plainte (over the 5-point cap)"


def test_configured_keywords_and_weights() -> None:
    config = TriageConfig(keywords={"fr": {"fibre noire": 4, "rembours*": 2}})
    a = assess("la fibre noire et le remboursement", lang="fr", config=config)
    assert a.reasons == ("keyword: fibre noire (+4)", "keyword: rembours (+1)")
    assert a.score == 5  # capped: 4 + min(2, 1)


@pytest.mark.parametrize(("text", "lang", "words"), [
    ("@Fibrelle c'est une HONTE, un scandale", "fr", "honte, scandale"),
    ("Service NUL et décevant 😡", "fr", "nul, decevant, 😡"),
    ("Terrible service, useless app", "en", "terrible, useless"),
    ("je ne suis pas content", "fr", "content"),  # negated praise
    ("not happy at all", "en", "happy"),
])
def test_negative_tone(text: str, lang: str, words: str) -> None:
    reasons = assess(text, lang=lang).reasons
    assert any(r.startswith(f"negative tone: {words} (+") for r in reasons), reasons


def test_a_very_negative_message_weighs_more() -> None:
    a = assess("honte, scandale, lamentable", lang="fr")
    assert a.reasons == ("negative tone: honte, scandale, lamentable (+2)",)


@pytest.mark.parametrize("text", [
    "5 ans chez vous et aucun regret, merci",  # a negated complaint is praise
    "Merci pour le geste commercial, je ne m'y attendais pas 😍",
    "Thanks, sorted 👍",
])
def test_praise_is_not_negative(text: str) -> None:
    assert not any(r.startswith("negative") for r in assess(text, past=5).reasons)
    assert assess(text, past=5).verdict == "delight"


@pytest.mark.parametrize("text", [
    "On m'avait dit que c'était réglé… ce n'est pas le cas.",  # reported praise, denied
    "aucun réseau 5G alors que la carte dit « couverture excellente »",  # quoted praise
    "#PanneFibrelle commerces sans terminal CB. Merci @Fibrelle 👏👏 (non)",  # sarcasm
])
def test_reported_quoted_and_sarcastic_praise_is_not_delight(text: str) -> None:
    assert assess(text, past=5, lang="fr").verdict == "main"


@pytest.mark.parametrize(("recent", "reason"), [
    (0, None),
    (1, "repeat contact: 2nd message today (+1)"),
    (2, "repeat contact: 3rd message today (+2)"),
    (10, "repeat contact: 11th message today (+2)"),
    (20, "repeat contact: 21st message today (+2)"),
])
def test_repeat_contacts(recent: int, reason: str | None) -> None:
    reasons = assess("hello", recent=recent, recent_texts=("x",) * recent).reasons
    assert reasons == ((reason,) if reason else ())


def test_the_sources_priority_is_the_starting_point() -> None:
    assert assess("avocat", lang="fr", priority=2).score == 5


# --- spam and trolls ---------------------------------------------------------------------------
def test_link_only_from_a_new_account_is_spam() -> None:
    a = assess("https://example.com/x", author_created_at=NOW - 2 * DAY - 60)
    assert a.verdict == "spam"
    assert a.reasons[0] == "likely spam: link-only, account 2 days old"


@pytest.mark.parametrize(("text", "signal"), [
    ("https://bit.ly/3xFr33G1ft", "shortened link"),
    ("@Fibrelle Turn $500 into $25,000 with $MOONCOIN!! DM me https://moon.example/p",
     "scam words: dm me, $MOONCOIN"),
    ("Gagnez un iPhone ! Cliquez vite https://cadeau.example/win", "scam words: gagnez, cliquez"),
    ("Support : votre compte sera suspendu, vérifiez ici https://x.example/login",
     "scam words: compte sera suspendu, verifiez ici"),
    ("Follow back? 🙏 #followforfollow #f4f", "scam words: follow back, followforfollow, f4f"),
    ("@a @b @c @d @e @f look at this https://x.example", "6 @mentions"),
])
def test_spam_signals_and_their_reasons(text: str, signal: str) -> None:
    a = assess(text)
    assert a.verdict == "spam", a
    assert signal in a.reasons[0], a.reasons


@pytest.mark.parametrize(("text", "signal"), [
    ("@Fibrelle NULS NULS NULS NULS NULS NULS", "repeated word: nuls"),
    ("@Fibrelle lol clowns 🤡🤡🤡🤡🤡🤡", "shouting"),
    ("@Fibrelle réveillez-vous les incompétents !!!!!!!!!", "insult: incompetent"),
])
def test_trolls_are_named_as_such(text: str, signal: str) -> None:
    a = assess(text, lang="fr", author_created_at=NOW - 3 * DAY)
    assert a.verdict == "spam"
    assert a.reasons[0].startswith("likely troll: ") and signal in a.reasons[0], a.reasons


def test_the_same_text_again_today() -> None:
    a = assess("@Fibrelle bande de nuls", recent=2,
               recent_texts=("@Fibrelle bande de NULS", "@fibrelle bande de nuls !"))
    assert a.verdict == "spam"
    assert "same text 3 times today" in a.reasons[0]


def test_an_insult_alone_from_a_real_customer_stays_in_the_queue() -> None:
    a = assess("@Fibrelle bande de nuls, 3 jours sans internet", lang="fr",
               author_created_at=NOW - 900 * DAY)
    assert a.verdict == "main"
    assert a.reasons[-1] == "spam signals (2 of 3): insult: nul"


def test_block_list_handles_and_words() -> None:
    config = TriageConfig(block_list=("@Pump_Bot", "MoonCoin"))
    a = assess("hello", author_handle="@pump_bot", config=config)
    assert (a.verdict, a.reasons[0]) == ("spam", "likely spam: blocked handle: @pump_bot")
    a = assess("buy MOONCOIN", config=config)
    assert (a.verdict, a.reasons[0]) == ("spam", "likely spam: blocked word: MoonCoin")
    assert assess("hello", author_handle="@pump_bot@mastodon.social",
                  config=config).verdict == "spam"


def test_spam_threshold_comes_from_the_config() -> None:
    assert assess("https://bit.ly/x", config=TriageConfig(spam_threshold=4)).verdict == "main"


def test_new_account_age_from_the_config() -> None:
    text = "https://example.com/x"
    old = NOW - 10 * DAY
    assert assess(text, author_created_at=old).verdict == "spam"
    assert assess(text, author_created_at=old,
                  config=TriageConfig(new_account_days=7)).verdict == "main"
    assert "account less than a day old" in assess(text, author_created_at=NOW - 60).reasons[0]


# --- delight -----------------------------------------------------------------------------------
def test_delight_from_a_loyal_customer() -> None:
    a = assess("Un grand merci à Inès, technicien au top 😍", lang="fr", past=4)
    assert a.verdict == "delight"
    assert a.reasons[0] == "delight: positive message from a loyal customer, 4 past messages"


def test_delight_from_a_large_audience() -> None:
    a = assess("Brilliant engineer this morning", lang="en", audience=80_000)
    assert a.verdict == "delight"
    assert a.reasons[0] == "delight: positive message, 80k followers"


def test_praise_from_a_stranger_is_not_delight() -> None:
    assert assess("Brilliant engineer this morning", lang="en", past=1).verdict == "main"


def test_score_gives_what_the_store_keeps() -> None:
    scorer, inp = item("Merci, c'est réglé 👍", past=3, lang="fr")
    result = scorer.score(inp)
    assert (result.lane, result.tags) == (TRIAGE_MAIN, ("delight",))
    scorer, inp = item("https://bit.ly/x")
    result = scorer.score(inp)
    assert (result.lane, result.tags) == (TRIAGE_SPAM, ())
    assert result.reasons[0].startswith("likely spam: ")
    assert scorer.score(inp) is result  # cached: a bulk load meets the same case again


# --- helpers -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("n", "text"), [(800, "800"), (9_500, "9.5k"), (10_000, "10k"),
                                         (120_000, "120k"), (1_250_000, "1.2M"),
                                         (2_000_000, "2M")])
def test_audience_text(n: int, text: str) -> None:
    assert audience_text(n) == text


def test_fold() -> None:
    assert fold("RÉPONSE Œuvre") == fold("reponse oeuvre") == "reponse oeuvre"
    assert fold("plain ascii") == "plain ascii"

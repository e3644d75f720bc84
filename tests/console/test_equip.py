"""equip_store: every path that writes mentions gets triage, SLA policies and crisis topics from
the same configuration (sync --once used to skip the topic counter)."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

from console.config import Config, SlaConfig
from console.equip import equip_store
from console.listening_config import CrisisSettings
from console.sla_policy import SlaRules
from db.models import NewMention
from db.store import Store

NOW = 1_764_000_000


async def test_a_store_equipped_from_config_triages_times_and_counts_topics(
    tmp_path: Path,
) -> None:
    config = replace(Config(), sla=SlaConfig(rules=SlaRules.preset("thirty-minutes")),
                     crisis=CrisisSettings(keywords=("coupure",)))
    store = await Store.open(tmp_path / "equipped.db")
    try:
        equip_store(store, config)
        await store.ingest([NewMention(
            channel="x", remote_id="1", author_handle="@ana", author_name="Ana",
            text="Encore une coupure #PanneTest, c'est une honte", created_at=NOW - 60,
        )], now=NOW)
    finally:
        await store.close()
    conn = sqlite3.connect(tmp_path / "equipped.db")
    try:
        policy, due, reasons = conn.execute(
            "SELECT sla_policy, first_reply_due, triage_reasons FROM mentions").fetchone()
        topics = {row[0] for row in conn.execute("SELECT label FROM topics")}
    finally:
        conn.close()
    assert (policy, due) == ("thirty-minutes", NOW - 60 + 30 * 60)
    assert "honte" in reasons  # the negative-tone reason names the word
    assert {"#PanneTest", "coupure"} <= topics

"""What a Store needs from this console's configuration before it writes a mention.

Every path that writes mentions (the console, the demo, `seed`, `sync --once`) equips its Store
here, so none of them can forget one of the three: a mention synced by cron is triaged, timed by
the SLA policies and counted for crisis topics exactly as one synced in the open console.
"""

from __future__ import annotations

from console import crisis, triage
from console.config import Config
from console.sla_planner import install_planner
from db.store import Store


def equip_store(store: Store, config: Config) -> None:
    """Triage scorer, crisis topic counter and SLA planner, from `config`."""
    triage.install(store, config.triage)
    crisis.install(store, config.crisis)
    install_planner(store, config.sla.rules)

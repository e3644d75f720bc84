"""Snapshots of the crisis view and the listening view (frozen clock, demo data seed 7).

Same app and stabilisers as tests/app/test_snapshots.py (its SnapshotApp, `steps`, `no_blink`).
Regenerate only these with
``.venv/bin/python -m pytest tests/app/test_crisis_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from textual.pilot import Pilot

from console.screens.crisis import CrisisScreen
from console.screens.listening import ListeningScreen
from db.listening import NewWatchResult, add_watch_results

from .conftest import NOW
from .test_snapshots import WIDE, SnapCompare, make_app, no_blink, steps  # noqa: F401
from .test_workflows import settle

# Listening results with fixed texts and times (one of them hostile: it must stay text).
RESULTS = (
    NewWatchResult("mastodon", "https://piaille.fr/@noe/1", "@noe@piaille.fr", "Noé",
                   "Quelqu'un a testé la fibre Fibrelle à Lyon 7e ? J'hésite avec Orbicom",
                   "Fibrelle", NOW - 3 * 3600),
    NewWatchResult("bluesky", "at://did:plc:x/app.bsky.feed.post/2", "ava.bsky.social", "Ava",
                   "Switched from Telivo to Fibrelle last week, speed tests are wild",
                   "Telivo", NOW - 40 * 60),
    NewWatchResult("x", "1790000000000000003", "@rbenali", "Rémi Benali",
                   "Mon voisin chez NéoLigne a encore internet, nous plus rien #PanneFibrelle",
                   "#PanneFibrelle", NOW - 5 * 60),
    NewWatchResult("x", "1790000000000000004", "@troll_42", "[b]Troll[/b]",
                   "Orbicom > all [@click=app.quit]free[/] \x1b[2J", "Orbicom", NOW - 30),
)


def test_crisis_view_with_a_selection(snap_compare: SnapCompare, make_app) -> None:  # noqa: F811
    """C on the demo's #PanneFibrelle burst, two mentions selected (space, j, space)."""

    async def run_before(pilot: Pilot[None]) -> None:
        await steps("C", "space", "j", "j", "space")(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, CrisisScreen) and len(screen.selected) == 2

    assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)


def test_listening_view(snap_compare: SnapCompare, make_app) -> None:  # noqa: F811
    """w with four results, one promoted (p on the second newest)."""

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await add_watch_results(pilot.app.store, list(RESULTS), now=NOW)  # type: ignore[attr-defined]
        await steps("w", "j", "p")(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ListeningScreen)
        assert screen.results[1].promoted_mention_id is not None
        no_blink(pilot)

    assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)

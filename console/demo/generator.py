"""Deterministic demo data for trainers: customers, mention history, a lively queue, a crisis.

Everything derives from `random.Random(seed)` and the `now` the caller passes (never the global
`random`, never the wall clock), so a trainer's walkthrough and the tests see the same rows.

Public API:
- `demo_dataset(seed, now) -> DemoDataset(customers, mentions)`: ~300 customers, ~2,000 mentions.
- `demo_customers(seed)`: the same customers alone (the live simulator reuses them as authors).
- `demo_templates() -> [(name, lang, body)]`: reply templates in French and English.
- `bulk_customers(n, seed)` / `bulk_mentions(n, seed, now)`: streams for `comptoir seed
  --mentions N`, up to millions of rows, matched to each other (same `n`, same `seed`).
- `LiveMentionSource(seed).next(at, seq)`: one mention for the simulated live channel.
"""

from __future__ import annotations

import random
import re
import unicodedata
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Final

from console.listening_config import ListeningConfig
from console.sla import WARN_SECONDS
from db.models import CHANNELS, NewCustomer, NewIdentity, NewMention, Status

from . import phrases as P

HOUR: Final = 3600
DAY: Final = 86400

# First-reply targets by priority (0 normal, 1 high audience, 2 crisis). The demo rows carry an
# explicit `first_reply_due` so the SLA column looks the same whatever default the Store uses.
SLA_BY_PRIORITY: Final = {0: 4 * HOUR, 1: 2 * HOUR, 2: 1 * HOUR}

DEMO_CUSTOMERS: Final = 300
HIGH_AUDIENCE_CUSTOMERS: Final = 6
CRISIS_BURST: Final = 80
CRISIS_WINDOW: Final = 2 * HOUR

# Variables a template may use (filled by console.templates from the customer and the agent),
# and the free fields the agent types in when inserting the template.
TEMPLATE_VARIABLES: Final = frozenset(
    {"customer.first_name", "customer.handle", "agent.first_name", "agent.signature"}
)
TEMPLATE_FREE_FIELDS: Final = frozenset({"order_id", "delay", "eta", "ticket_id"})

# Twitter's snowflake epoch: remote ids on x and mastodon are time-ordered like the real ones.
_SNOWFLAKE_EPOCH_MS: Final = 1288834974657
_B32_SORT: Final = "234567abcdefghijklmnopqrstuvwxyz"  # atproto TID alphabet
# Worker ids inside remote ids, so demo, live and bulk rows can never collide.
MACHINE_DEMO: Final = 1
MACHINE_LIVE: Final = 2
MACHINE_BULK: Final = 3
MACHINE_LISTEN: Final = 4


@dataclass(frozen=True, slots=True)
class DemoDataset:
    customers: list[NewCustomer]
    mentions: list[NewMention]
    # What the generator meant some new rows to be: (channel, remote_id) -> "spam", "troll" or
    # "delight". The rows themselves carry no such tag: classifying them is triage's job
    # (console/triage.py), and this is the answer key its tests and figures compare against.
    labels: dict[tuple[str, str], str] = field(default_factory=dict)


# --- remote ids ---------------------------------------------------------------------------------


def _tid(micros: int, clock_id: int) -> str:
    """An atproto record key (TID): 13 sortable base32 chars of microseconds and a clock id."""
    v = (micros << 10) | (clock_id & 0x3FF)
    out = []
    for _ in range(13):
        out.append(_B32_SORT[v & 31])
        v >>= 5
    return "".join(reversed(out))


def remote_id(channel: str, created_at: int, seq: int, machine: int, author_uid: str) -> str:
    """A realistic, unique post id. Unique for distinct `seq` below ~4 million per machine:
    the milliseconds and sequence bits both come from `seq`, the seconds from `created_at`."""
    ms = created_at * 1000 + seq % 1000
    low = ((machine & 0xF) << 12) | ((seq // 1000) & 0xFFF)
    if channel == "x":
        return str(((ms - _SNOWFLAKE_EPOCH_MS) << 22) | low)
    if channel == "mastodon":
        return str((ms << 16) | low)
    return f"at://{author_uid}/app.bsky.feed.post/{_tid(ms * 1000 + seq % 1000, machine)}"


def _user_uid(channel: str, rng: random.Random) -> str:
    if channel == "bluesky":
        return "did:plc:" + "".join(rng.choice(_B32_SORT) for _ in range(24))
    if channel == "x":
        return str(rng.randrange(10**8, 10**18))
    return str(rng.randrange(10**5, 10**17))


# --- text ---------------------------------------------------------------------------------------

_SLOT = re.compile(r"\{(\w+)\}")
_MONTHS = {
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def _slot_makers(
    rng: random.Random, lang: str, channel: str, extra: dict[str, str]
) -> dict[str, Callable[[], str]]:
    ch = rng.choice
    return {
        "brand": lambda: P.BRAND_HANDLES[channel],
        "order": lambda: f"FB-{rng.randrange(100000, 999999)}",
        "days": lambda: str(rng.choice((3, 5, 8, 10, 12, 15, 21, 30, 45))),
        "hours": lambda: str(rng.randrange(1, 7)),
        "hour": lambda: str(rng.randrange(9, 18)),
        "amount": lambda: str(rng.choice((12, 19, 29, 35, 39, 49, 60, 89, 120, 249))),
        "date": lambda: f"{rng.randrange(1, 29)} {ch(_MONTHS[lang])}",
        "month": lambda: ch(_MONTHS[lang]),
        "version": lambda: f"4.{rng.randrange(2, 9)}.{rng.randrange(0, 12)}",
        "city": lambda: ch(P.CITIES_FR),
        "competitor": lambda: ch(P.COMPETITORS),
        "angry": lambda: ch(P.EMOJI_ANGRY),
        "sad": lambda: ch(P.EMOJI_SAD),
        "happy": lambda: ch(P.EMOJI_HAPPY),
        "tag": lambda: P.CRISIS_HASHTAG,
        "agent_name": lambda: P.AGENT_SIGNATURES[ch(P.AGENTS)].lstrip("^"),
        **{k: (lambda v=v: v) for k, v in extra.items()},
    }


def _fill(template: str, rng: random.Random, lang: str, channel: str, **extra: str) -> str:
    makers = _slot_makers(rng, lang, channel, extra)
    text = _SLOT.sub(
        lambda m: makers[m.group(1)]() if m.group(1) in makers else m.group(0), template
    )
    # An empty emoji slot leaves a double or trailing space: tidy it so posts look typed.
    return re.sub(r" {2,}", " ", text).strip()


def _sub_rng(seed: int, purpose: str) -> random.Random:
    """An independent stream per purpose (string seeds hash with SHA-512: stable everywhere), so
    adding a post template never renames people and the live feed never shifts the dataset."""
    return random.Random(f"{seed}:{purpose}")


def _slug(name: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", ascii_.lower())


# --- people -------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Person:
    first: str
    last: str
    lang: str
    audience: int
    identities: list[NewIdentity] = field(default_factory=list)
    tags: tuple[str, ...] = ()
    joined: int | None = None  # when their accounts were created; None: years ago (see add)

    @property
    def display(self) -> str:
        return f"{self.first} {self.last}"

    def customer(self) -> NewCustomer:
        return NewCustomer(self.display, self.first, tuple(self.identities), self.tags)


class _Handles:
    """Handles per channel, unique across the whole dataset (customers and strangers)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[tuple[str, str]] = set()

    def reserve(self, channel: str, handle: str) -> None:
        self._used.add((channel, handle))

    def make(self, channel: str, first: str, last: str, digits: bool = False) -> str:
        rng = self._rng
        f, la = _slug(first), _slug(last)
        style = rng.randrange(5)
        base = (f + "_" + la, f + la[:3], f[0] + la, la + f[:2], f + "." + la)[style]
        if digits:
            base = base[:8] + str(rng.randrange(100, 10000))
        if channel == "x":
            base = base.replace(".", "_")[:12]
        elif channel == "bluesky":
            base = base.replace("_", "")
        candidate, n = base, 0
        while True:
            if channel == "x":
                handle = f"@{candidate}"
            elif channel == "mastodon":
                handle = f"@{candidate}@{rng.choice(P.MASTODON_INSTANCES)}"
            else:
                handle = f"@{candidate}.bsky.social"
            if (channel, handle) not in self._used:
                self._used.add((channel, handle))
                return handle
            n += 1
            candidate = f"{base}{rng.randrange(10, 99) if n < 5 else n}"


def _new_person(
    rng: random.Random,
    handles: _Handles,
    channels: Sequence[str],
    audience: int | None = None,
    digits: bool = False,
) -> _Person:
    lang = "fr" if rng.random() < 0.7 else "en"
    first = rng.choice(P.FIRST_NAMES_FR if lang == "fr" else P.FIRST_NAMES_EN)
    last = rng.choice(P.LAST_NAMES)
    if audience is None:
        audience = min(int(rng.lognormvariate(5.0, 1.3)), 20_000)
    person = _Person(first, last, lang, audience)
    for channel in channels:
        # A person's reach differs per network; the customer's audience is the largest.
        reach = audience if channel == channels[0] else int(audience * rng.uniform(0.05, 0.6))
        name = person.display if rng.random() < 0.6 else f"{first} {last[0]}."
        person.identities.append(
            NewIdentity(
                channel,
                handles.make(channel, first, last, digits),
                name,
                reach,
                _user_uid(channel, rng),
            )
        )
    return person


def _make_people(rng: random.Random, handles: _Handles) -> list[_Person]:
    people = []
    for i in range(DEMO_CUSTOMERS):
        primary = rng.choice(CHANNELS)
        channels = [primary]
        if rng.random() < 0.2:  # about 60 customers reachable on two networks
            channels.append(rng.choice([c for c in CHANNELS if c != primary]))
        high = i < HIGH_AUDIENCE_CUSTOMERS
        # High-audience accounts: log-uniform between 50k and 500k followers.
        audience = int(50_000 * 10 ** rng.random()) if high else None
        person = _new_person(rng, handles, channels, audience)
        if high:
            person.tags = ("vip",)
        elif rng.random() < 0.05:
            person.tags = ("pro",)
        people.append(person)
    return people


def demo_customers(seed: int) -> list[NewCustomer]:
    """The customers of `demo_dataset(seed, now)` (identical: they do not depend on `now`)."""
    return [p.customer() for p in _make_people(random.Random(seed), _Handles(_sub_rng(seed, "h")))]


# --- the dataset --------------------------------------------------------------------------------


class _Builder:
    def __init__(self, seed: int, now: int) -> None:
        self.rng = random.Random(seed)
        self.handles = _Handles(_sub_rng(seed, "h"))
        self.now = now
        self.seq = 0
        self.mentions: list[NewMention] = []

    def add(
        self, person: _Person, ident: NewIdentity, text: str, created_at: int, **kw: object
    ) -> NewMention:
        self.seq += 1
        rid = remote_id(
            ident.channel, created_at, self.seq, MACHINE_DEMO, ident.remote_user_id or ""
        )
        joined = person.joined
        if joined is None:  # an established account: 200 days to 11 years, stable per handle
            joined = self.now - (200 + zlib.crc32(ident.handle.encode()) % 3800) * DAY
        m = NewMention(
            channel=ident.channel,
            remote_id=rid,
            author_handle=ident.handle,
            author_name=ident.display_name,
            text=text,
            created_at=created_at,
            author_audience=ident.audience,
            author_remote_id=ident.remote_user_id,
            lang=person.lang,
            # Channels deliver a few seconds late, but never after "now".
            received_at=min(created_at + self.rng.randrange(1, 20), self.now),
            # What the channels' APIs tell about the author (triage signals).
            author_created_at=min(joined, created_at),
            author_verified=True if ident.audience >= 50_000 else None,
            **kw,  # type: ignore[arg-type]
        )
        self.mentions.append(m)
        return m

    def post(
        self, pool: dict[tuple[str, str], tuple[str, ...]], topic: str, lang: str, channel: str
    ) -> str:
        return _fill(self.rng.choice(pool[(topic, lang)]), self.rng, lang, channel)

    def reply(self, person: _Person, lang: str, channel: str, agent: str, topic: str) -> str:
        pool = P.REPLIES.get((topic, lang)) or P.REPLIES[("", lang)]
        return _fill(
            self.rng.choice(pool),
            self.rng,
            lang,
            channel,
            first=person.first,
            sig=P.AGENT_SIGNATURES[agent],
        )

    def due_for_bucket(self, priority: int) -> tuple[int, int]:
        """(created_at, first_reply_due) of an active mention: ~15% breached, ~12% amber, the
        rest green, so the SLA column of a fresh demo shows all three colours."""
        rng, now, sla = self.rng, self.now, SLA_BY_PRIORITY[priority]
        r = rng.random()
        if r < 0.15:
            due = now - rng.randrange(60, 3 * HOUR)
        elif r < 0.27:
            due = now + rng.randrange(60, WARN_SECONDS - 60)
        else:
            due = now + rng.randrange(WARN_SECONDS + 60, sla - 120)
        return due - sla, due


def demo_dataset(seed: int, now: int) -> DemoDataset:
    b = _Builder(seed, now)
    rng = b.rng
    # Its own stream, so account ages shift nothing else in the dataset.
    joined_rng = _sub_rng(seed, "joined")
    labels: dict[tuple[str, str], str] = {}
    people = _make_people(rng, b.handles)
    last_thread: dict[int, tuple[NewMention, NewMention]] = {}  # person -> (root, last)

    # 1. History: several past conversations per customer, answered and resolved.
    for pi, person in enumerate(people):
        for _ in range(rng.choice((2, 3, 4, 4, 5, 5, 6, 7))):
            ident = rng.choice(person.identities)
            lang = person.lang if rng.random() < 0.92 else ("en" if person.lang == "fr" else "fr")
            created = now - rng.randrange(2 * DAY, 180 * DAY)
            agent = rng.choice(P.AGENTS)
            if rng.random() < 0.08:
                topic, text = (
                    "delight",
                    _fill(rng.choice(P.DELIGHT_POSTS[lang]), rng, lang, ident.channel),
                )
            else:
                topic = rng.choice(P.TOPICS)
                text = b.post(P.POSTS, topic, lang, ident.channel)
            replied = created + rng.randrange(5 * 60, 6 * HOUR)
            root = b.add(
                person,
                ident,
                text,
                created,
                status=Status.RESOLVED,
                tags=(topic,),
                assignee=agent,
                priority=1 if person.audience >= 50_000 else 0,
                first_reply_due=created + SLA_BY_PRIORITY[0],
                replied_at=replied,
                resolved_at=min(now - 60, replied + rng.randrange(10 * 60, 2 * DAY)),
                reply_text=b.reply(person, lang, ident.channel, agent, topic),
                reply_author=agent,
            )
            last = root
            if rng.random() < 0.25:  # the customer closes the loop in the same thread
                at = replied + rng.randrange(5 * 60, DAY)
                last = b.add(
                    person,
                    ident,
                    _fill(rng.choice(P.FOLLOW_UPS[lang]), rng, lang, ident.channel),
                    at,
                    thread_id=root.remote_id,
                    in_reply_to=root.remote_id,
                    status=Status.RESOLVED,
                    tags=(topic,),
                    assignee=agent,
                    first_reply_due=at + SLA_BY_PRIORITY[0],
                    resolved_at=at + 60,
                )
            last_thread[pi] = (root, last)

    # 2. The open queue: fresh complaints and questions from known customers.
    for _ in range(95):
        pi = rng.randrange(len(people))
        person = people[pi]
        ident = rng.choice(person.identities)
        priority = 1 if person.audience >= 50_000 else 0
        created, due = b.due_for_bucket(priority)
        kw: dict[str, object] = {}
        if pi in last_thread and rng.random() < 0.15:  # back on an old thread: history matters
            root, last = last_thread[pi]
            text = _fill(rng.choice(P.RETURNS[person.lang]), rng, person.lang, ident.channel)
            kw.update(thread_id=root.remote_id, in_reply_to=last.remote_id)
            ident = next(i for i in person.identities if i.channel == root.channel)
            topic = root.tags[0]
        else:
            topic = rng.choice(P.TOPICS)
            text = b.post(P.POSTS, topic, person.lang, ident.channel)
        opened = rng.random() < 0.3
        assignee = rng.choice(P.AGENTS) if opened and rng.random() < 0.8 else None
        b.add(
            person,
            ident,
            text,
            created,
            status=Status.OPEN if opened else Status.NEW,
            priority=priority,
            assignee=assignee,
            tags=(topic,) if opened else (),
            first_reply_due=due,
            **kw,
        )

    # 3. The brewing crisis: ~80 angry posts with one hashtag in the last two hours, ramping up
    #    (age = window * u**3 puts most of them in the last half hour, as a real burst does).
    for _ in range(CRISIS_BURST):
        if rng.random() < 0.35:
            person = rng.choice(people)
        else:  # most crisis authors have never written to the brand before
            person = _new_person(rng, b.handles, [rng.choice(CHANNELS)])
        ident = rng.choice(person.identities)
        lang = person.lang
        created = now - int(CRISIS_WINDOW * rng.random() ** 3) - 1
        text = _fill(
            rng.choice(P.CRISIS_POSTS[lang]),
            rng,
            lang,
            ident.channel,
            city=rng.choice(P.CRISIS_CITIES),
        )
        b.add(
            person,
            ident,
            text,
            created,
            status=Status.NEW,
            priority=2,
            tags=("crisis", "outage"),
            first_reply_due=created + SLA_BY_PRIORITY[2],
        )

    # 4. Pending (replied, waiting for the customer) and snoozed rows.
    for i in range(40):
        person = rng.choice(people)
        ident = rng.choice(person.identities)
        topic = rng.choice(P.TOPICS)
        agent = rng.choice(P.AGENTS)
        created = now - rng.randrange(3 * HOUR, 3 * DAY)
        text = b.post(P.POSTS, topic, person.lang, ident.channel)
        reply = b.reply(person, person.lang, ident.channel, agent, topic)
        if i < 6:  # snoozed: wakes within the next hour
            b.add(
                person,
                ident,
                text,
                created,
                status=Status.SNOOZED,
                assignee=agent,
                tags=(topic,),
                first_reply_due=created + SLA_BY_PRIORITY[0],
                replied_at=created + 20 * 60,
                reply_text=reply,
                reply_author=agent,
                snoozed_until=now + rng.randrange(5 * 60, HOUR),
            )
        else:
            b.add(
                person,
                ident,
                text,
                created,
                status=Status.PENDING,
                assignee=agent,
                tags=(topic,),
                first_reply_due=created + SLA_BY_PRIORITY[0],
                replied_at=created + rng.randrange(5 * 60, 2 * HOUR),
                reply_text=reply,
                reply_author=agent,
            )

    # 5. Happy customers worth a surprise.
    for _ in range(24):
        person = rng.choice(people)
        ident = rng.choice(person.identities)
        text = _fill(rng.choice(P.DELIGHT_POSTS[person.lang]), rng, person.lang, ident.channel)
        created, due = b.due_for_bucket(0)
        m = b.add(person, ident, text, created, status=Status.NEW, first_reply_due=due)
        labels[(m.channel, m.remote_id)] = "delight"

    # 6. Spam and trolls from throwaway accounts: some still in the queue, some already binned.
    for kind, pool, count in (("spam", P.SPAM_POSTS, 30), ("troll", P.TROLL_POSTS, 16)):
        for i in range(count):
            person = _new_person(rng, b.handles, [rng.choice(CHANNELS)], rng.randrange(0, 40))
            names = P.SPAM_NAMES if kind == "spam" else P.TROLL_NAMES
            ident = replace(person.identities[0], display_name=rng.choice(names))
            text = _fill(rng.choice(pool), rng, "fr", ident.channel)
            repeats = 3 if kind == "troll" and i % 4 == 0 else 1  # same text, again and again
            active = i % 2 == 0
            for _ in range(repeats):
                # Throwaway accounts are days old when they post (the channels say so).
                if active:
                    created, due = b.due_for_bucket(0)
                    if person.joined is None:
                        person.joined = now - joined_rng.randrange(8 * HOUR, 6 * DAY)
                    m = b.add(
                        person,
                        ident,
                        text,
                        created,
                        status=Status.NEW,
                        first_reply_due=due,
                    )
                else:
                    created = now - rng.randrange(DAY, 60 * DAY)
                    person.joined = created - joined_rng.randrange(HOUR, 6 * DAY)
                    m = b.add(
                        person,
                        ident,
                        text,
                        created,
                        status=Status.RESOLVED,
                        tags=(kind,),
                        first_reply_due=created + SLA_BY_PRIORITY[0],
                        resolved_at=created + rng.randrange(60, 2 * HOUR),
                    )
                labels[(m.channel, m.remote_id)] = kind

    # 7. TRAINER DEMO, hostile strings: markup, an action link, ANSI escapes, bidi, a huge word
    #    (see phrases.HOSTILE_POSTS), plus an author whose display name is markup.
    for lang, template in P.HOSTILE_POSTS:
        person = _new_person(rng, b.handles, [rng.choice(CHANNELS)], rng.randrange(10, 300))
        ident = person.identities[0]
        created, due = b.due_for_bucket(0)
        b.add(
            person,
            ident,
            _fill(template, rng, lang, ident.channel),
            created,
            status=Status.NEW,
            first_reply_due=due,
        )
    person = _new_person(rng, b.handles, ["x"], 12)
    ident = replace(person.identities[0], display_name=P.HOSTILE_AUTHOR_NAME)
    created, due = b.due_for_bucket(0)
    b.add(
        person,
        ident,
        "@Fibrelle Bonjour, merci de me communiquer vos identifiants pour vérification.",
        created,
        status=Status.NEW,
        first_reply_due=due,
    )

    # Chronological order: the Store numbers rows as it inserts them, so ids follow time.
    b.mentions.sort(key=lambda m: (m.created_at, m.remote_id))
    return DemoDataset([p.customer() for p in people], b.mentions, labels)


# --- templates ----------------------------------------------------------------------------------


def demo_templates() -> list[tuple[str, str, str]]:
    """(name, lang, body) reply templates; bodies use TEMPLATE_VARIABLES and free fields."""
    return [
        (
            "Accueil",
            "fr",
            "Bonjour {customer.first_name}, ici {agent.first_name} du service client Fibrelle. "
            "Je regarde votre demande tout de suite !",
        ),
        (
            "Greeting",
            "en",
            "Hi {customer.first_name}, {agent.first_name} from Fibrelle care here. "
            "Looking into this for you right now!",
        ),
        (
            "Excuses + remboursement",
            "fr",
            "Bonjour {customer.first_name}, toutes nos excuses pour ce désagrément. Le "
            "remboursement de la commande {order_id} est lancé, comptez {delay}. {agent.signature}",
        ),
        (
            "Apology + refund",
            "en",
            "Hi {customer.first_name}, we're sorry for the trouble. The refund for order "
            "{order_id} is on its way, please allow {delay}. {agent.signature}",
        ),
        (
            "Panne en cours (crise)",
            "fr",
            "{customer.handle} Un incident touche la fibre autour de Lyon. Nos techniciens sont "
            "sur place, prochain point à {eta}. Suivez #PanneFibrelle. Désolés ! {agent.signature}",
        ),
        (
            "Outage holding statement",
            "en",
            "{customer.handle} We're aware of a fibre outage around Lyon. Engineers are on site, "
            "next update at {eta}. Follow #PanneFibrelle. Sorry! {agent.signature}",
        ),
        # Holding statements for a crisis bulk reply: no free field, so one click answers a
        # hundred people, each by name and signed by the agent who sent it.
        (
            "Message d'attente (crise)",
            "fr",
            "Bonjour {customer.first_name}, nous savons qu'une panne touche la fibre en ce "
            "moment et nos équipes sont mobilisées. Nous revenons vers vous dès que possible, "
            "merci de votre patience. {agent.signature}",
        ),
        (
            "Holding statement (crisis)",
            "en",
            "Hi {customer.first_name}, we know about the fibre outage right now and our teams "
            "are on it. We'll update you as soon as we can; thank you for your patience. "
            "{agent.signature}",
        ),
        (
            "Merci !",
            "fr",
            "Merci {customer.first_name}, ça nous fait chaud au cœur 💚 Je transmets à l'équipe. "
            "Petite surprise en DM 🎁 {agent.signature}",
        ),
        (
            "Thank you!",
            "en",
            "Thank you {customer.first_name}, that made our day 💚 Passing it on to the team. "
            "Check your DMs for a little surprise 🎁 {agent.signature}",
        ),
        (
            "Passage en DM",
            "fr",
            "{customer.first_name}, pour protéger vos données, écrivez-nous en message privé avec "
            "votre numéro client (jamais votre mot de passe). {agent.signature}",
        ),
        (
            "Move to DM",
            "en",
            "{customer.first_name}, to keep your details safe please DM us your account number "
            "(never your password). {agent.signature}",
        ),
        (
            "Escalade",
            "fr",
            "{customer.first_name}, je transmets votre dossier {ticket_id} à l'équipe technique. "
            "Réponse sous {delay}, je vous tiens au courant. {agent.signature}",
        ),
        (
            "Escalation",
            "en",
            "{customer.first_name}, I've passed case {ticket_id} to our technical team. Expect an "
            "answer within {delay}; I'll keep you posted. {agent.signature}",
        ),
    ]


# --- live ---------------------------------------------------------------------------------------


class LiveMentionSource:
    """Fresh mentions for the simulated live channel (console.demo.live).

    A known demo customer writes 40% of the time (so history shows up for live rows when the
    database was seeded with the same seed), otherwise a new author whose handle carries digits
    and is checked against the demo customers, so it cannot hijack an existing identity. A
    quarter of the traffic keeps the crisis going; a few posts are spam or compliments.
    """

    def __init__(self, seed: int, crisis_share: float = 0.25) -> None:
        self._rng = _sub_rng(seed, "live")
        self._handles = _Handles(_sub_rng(seed, "live-h"))
        self._people = _make_people(random.Random(seed), _Handles(_sub_rng(seed, "h")))
        for person in self._people:
            for ident in person.identities:
                self._handles.reserve(ident.channel, ident.handle)
        self._crisis_share = crisis_share

    def next(self, at: int, seq: int) -> NewMention:
        rng = self._rng
        if rng.random() < 0.4:
            person = rng.choice(self._people)
            ident = rng.choice(person.identities)
        else:
            person = _new_person(rng, self._handles, [rng.choice(CHANNELS)], digits=True)
            ident = person.identities[0]
        lang, channel = person.lang, ident.channel
        r = rng.random()
        priority, tags = 0, ()
        share = self._crisis_share
        if r < share:
            text = _fill(
                rng.choice(P.CRISIS_POSTS[lang]),
                rng,
                lang,
                channel,
                city=rng.choice(P.CRISIS_CITIES),
            )
            priority, tags = 2, ("crisis", "outage")
        elif r < share + 0.05:  # spam and delight are left for triage to recognise
            text = _fill(rng.choice(P.SPAM_POSTS), rng, lang, channel)
        elif r < share + 0.10:
            text = _fill(rng.choice(P.DELIGHT_POSTS[lang]), rng, lang, channel)
        else:
            text = _fill(rng.choice(P.POSTS[(rng.choice(P.TOPICS), lang)]), rng, lang, channel)
        if priority == 0 and person.audience >= 50_000:
            priority = 1
        return NewMention(
            channel=channel,
            remote_id=remote_id(channel, at, seq, MACHINE_LIVE, ident.remote_user_id or ""),
            author_handle=ident.handle,
            author_name=ident.display_name,
            text=text,
            created_at=at,
            author_audience=ident.audience,
            author_remote_id=ident.remote_user_id,
            lang=lang,
            priority=priority,
            tags=tags,
        )


def demo_watch_list() -> ListeningConfig:
    """What the demo listens for: the brand's name, its crisis hashtag and its competitors."""
    return ListeningConfig(keywords=(P.BRAND,), hashtags=(P.CRISIS_HASHTAG,),
                           competitors=P.COMPETITORS)


class ListeningPostSource:
    """Posts about Fibrelle and its competitors for the demo's listening stream: public posts
    that do not address the care account (so they are not mentions), from authors who are mostly
    not customers yet. Its own random streams: adding it shifts nothing in the live mentions."""

    def __init__(self, seed: int) -> None:
        self._rng = _sub_rng(seed, "listen")
        self._handles = _Handles(_sub_rng(seed, "listen-h"))
        for person in _make_people(random.Random(seed), _Handles(_sub_rng(seed, "h"))):
            for ident in person.identities:
                self._handles.reserve(ident.channel, ident.handle)

    def next(self, at: int, seq: int) -> NewMention:
        rng = self._rng
        person = _new_person(rng, self._handles, [rng.choice(CHANNELS)], digits=True)
        ident = person.identities[0]
        text = _fill(
            rng.choice(P.LISTENING_POSTS[person.lang]), rng, person.lang, ident.channel,
            name=P.BRAND, city=rng.choice(P.CRISIS_CITIES + P.CITIES_FR),
        )
        return NewMention(
            channel=ident.channel,
            remote_id=remote_id(ident.channel, at, seq, MACHINE_LISTEN, ident.remote_user_id or ""),
            author_handle=ident.handle,
            author_name=ident.display_name,
            text=text,
            created_at=at,
            author_audience=ident.audience,
            author_remote_id=ident.remote_user_id,
            lang=person.lang,
        )


# --- bulk ---------------------------------------------------------------------------------------


def bulk_customer_count(n: int) -> int:
    """How many customers `bulk_customers(n, ...)` yields for n mentions (~8 mentions each)."""
    return max(20, n // 8)


class _BulkPeople:
    """Customer i of a bulk load as pure arithmetic on i (no per-customer list): both streams
    compute the same handle for the same i, so mentions attach to the loaded customers."""

    def __init__(self, count: int, seed: int) -> None:
        rng = random.Random(seed ^ 0x5EED)
        self.count = count
        firsts = list(P.FIRST_NAMES_FR + P.FIRST_NAMES_EN)
        lasts = list(P.LAST_NAMES)
        rng.shuffle(firsts)
        rng.shuffle(lasts)
        self.firsts = firsts
        self.lasts = lasts
        self.slugs = [(_slug(f)[:7], _slug(la)[:3]) for f in firsts for la in lasts]
        self.nf, self.nl = len(firsts), len(lasts)
        english = set(P.FIRST_NAMES_EN)
        self.langs = ["en" if f in english else "fr" for f in firsts]
        self.offset = rng.randrange(3)
        self.instances = P.MASTODON_INSTANCES

    def first(self, i: int) -> str:
        return self.firsts[i % self.nf]

    def name(self, i: int) -> str:
        return f"{self.firsts[i % self.nf]} {self.lasts[(i // self.nf) % self.nl]}"

    def channel(self, i: int, which: int = 0) -> str:
        return CHANNELS[(i + self.offset + which) % 3]

    def has_second(self, i: int) -> bool:
        return i % 9 == 4

    def handle(self, i: int, channel: str) -> str:
        f, la = self.slugs[(i % self.nf) * self.nl + (i // self.nf) % self.nl]
        if channel == "x":
            return f"@{f}{la}{i}"
        if channel == "mastodon":
            return f"@{f}{la}{i}@{self.instances[i % len(self.instances)]}"
        return f"@{f}{la}{i}.bsky.social"

    def uid(self, i: int, channel: str) -> str:
        return f"did:plc:bulk{i:020d}" if channel == "bluesky" else str(10**12 + i)

    def author(self, i: int, which: int) -> tuple[str, str, str, str, int, str, str]:
        """(channel, handle, name, uid, audience, first name, lang) of customer i on their
        first (which=0) or second network."""
        channel = self.channel(i, which)
        aud = self.audience(i)
        return (
            channel,
            self.handle(i, channel),
            self.name(i),
            self.uid(i, channel),
            aud // 4 if which else aud,
            self.first(i),
            self.lang(i),
        )

    def lang(self, i: int) -> str:
        return self.langs[i % self.nf]

    def audience(self, i: int) -> int:
        # A heavy tail without a random draw: one in 997 customers is a big account.
        return 50_000 + (i * 7919) % 450_000 if i % 997 == 0 else (i * 2654435761) % 3000


def bulk_customers(n: int, seed: int) -> Iterator[NewCustomer]:
    """The customers matching `bulk_mentions(n, seed, now)`; one in nine has two networks."""
    pop = _BulkPeople(bulk_customer_count(n), seed)
    for i in range(pop.count):
        name = pop.name(i)
        chans = [pop.channel(i)] + ([pop.channel(i, 1)] if pop.has_second(i) else [])
        aud = pop.audience(i)
        idents = tuple(
            NewIdentity(c, pop.handle(i, c), name, aud if k == 0 else aud // 4, pop.uid(i, c))
            for k, c in enumerate(chans)
        )
        yield NewCustomer(name, pop.first(i), idents, ("vip",) if aud >= 50_000 else ())


# Active window of a bulk backlog: rows younger than this are still being worked on.
_BULK_ACTIVE_WINDOW: Final = int(4.5 * HOUR)


def bulk_mentions(n: int, seed: int, now: int) -> Iterator[NewMention]:
    """n mentions in chronological order, spread over up to two years before `now`.

    Built for speed (a million rows in a few seconds): texts come from pools filled once, the
    per-row work is a few `random()` calls, list lookups and one NewMention. Rows older than
    4.5 h are resolved (60% with an agent reply, 1 in 8 of the recent ones still pending); the
    last 4.5 h are the active backlog, with a 4 h SLA so a sliver of it is already breached.
    """
    _check_bulk_field_order()
    rng = random.Random(seed)
    pop = _BulkPeople(bulk_customer_count(n), seed)
    pool_rng = random.Random(seed ^ 0xB01C)
    # Pools per (channel, lang): 400 texts each with their tags, filled once.
    pools: dict[tuple[str, str], list[tuple[str, tuple[str, ...]]]] = {}
    for channel in CHANNELS:
        for lang in ("fr", "en"):
            pool = []
            for k in range(400):
                if k % 40 == 0:
                    t, tags = pool_rng.choice(P.SPAM_POSTS), ("spam",)
                elif k % 40 == 1:
                    t, tags = pool_rng.choice(P.DELIGHT_POSTS[lang]), ("delight",)
                elif k % 40 == 2:
                    t, tags = pool_rng.choice(P.CRISIS_POSTS[lang]), ("outage",)
                else:
                    topic = P.TOPICS[k % len(P.TOPICS)]
                    t, tags = pool_rng.choice(P.POSTS[(topic, lang)]), (topic,)
                pool.append((_fill(t, pool_rng, lang, channel), tags))
            pools[(channel, lang)] = pool
    # Agent replies per (topic, lang), the customer's first name left as "\0" to fill per row.
    replies: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for channel_tags in pools.values():
        for _, tags in channel_tags:
            for lang in ("fr", "en"):
                key = (tags[0], lang)
                if key in replies:
                    continue
                source = P.REPLIES.get(key) or P.REPLIES[("", lang)]
                replies[key] = [
                    (_fill(t, pool_rng, lang, "x", sig=P.AGENT_SIGNATURES[a], first="\0"), a)
                    for t in source
                    for a in P.AGENTS
                ]
    n_pool, n_agents = 400, len(P.AGENTS)
    span = max(2 * DAY, min(730 * DAY, n * 90))
    start = now - span
    step = span / max(n, 1)
    sla = SLA_BY_PRIORITY[0]
    rand = rng.random
    resolved, pending, new, open_, snoozed = (
        Status.RESOLVED,
        Status.PENDING,
        Status.NEW,
        Status.OPEN,
        Status.SNOOZED,
    )
    agents = P.AGENTS
    # Per (customer, network): who they are on that network, computed once (~8 rows each).
    authors: dict[int, tuple[str, str, str, str, int, str, str]] = {}
    for i in range(n):
        created = start + int(i * step + rand() * step)
        if created > now:
            created = now
        who = int(rand() * pop.count)
        # Two-network customers alternate networks from one mention to the next.
        key = who * 2 + (1 if pop.has_second(who) and i & 1 else 0)
        author = authors.get(key)
        if author is None:
            author = authors[key] = pop.author(who, key & 1)
        channel, handle, name, uid, audience, first, lang = author
        text, tags = pools[(channel, lang)][int(rand() * n_pool)]
        age = now - created
        r = rand()
        replied_at = resolved_at = snoozed_until = None
        reply_text = reply_author = assignee = None
        spam = tags[0] == "spam"  # binned, never answered
        if age > _BULK_ACTIVE_WINDOW:
            status = pending if age < 3 * DAY and r < 0.125 and not spam else resolved
            if (status is pending or r < 0.6) and not spam:
                pool = replies[(tags[0], lang)]
                tpl, reply_author = pool[int(rand() * len(pool))]
                reply_text = tpl.replace("\0", first)
                replied_at = created + 300 + int(r * 3 * HOUR)
                assignee = reply_author
            if status is resolved:
                resolved_at = min(now, (replied_at or created) + 600 + int(r * DAY))
        elif r < 0.66 or spam:
            status = new
        elif r < 0.84:
            status = open_
            assignee = agents[int(rand() * n_agents)] if r < 0.78 else None
        elif r < 0.96:
            status = pending
            pool = replies[(tags[0], lang)]
            tpl, reply_author = pool[int(rand() * len(pool))]
            reply_text = tpl.replace("\0", first)
            replied_at = min(now, created + 300)
            assignee = reply_author
        else:
            status = snoozed
            snoozed_until = now + 300 + int(rand() * HOUR)
        # Positional on purpose (measurably faster over a million rows); the order is checked
        # against the dataclass by _check_bulk_field_order() and by the tests.
        yield NewMention(
            channel,
            remote_id(channel, created, i, MACHINE_BULK, uid),
            handle,
            name,
            text,
            created,
            None,
            None,
            audience,
            uid,
            lang,
            created,
            status,
            1 if tags[0] == "outage" else 0,
            assignee,
            tags,
            created + sla,
            replied_at,
            resolved_at,
            snoozed_until,
            reply_text,
            reply_author,
        )


# The positional NewMention(...) call in bulk_mentions relies on this field order.
BULK_FIELD_ORDER: Final = (
    "channel", "remote_id", "author_handle", "author_name", "text", "created_at", "thread_id",
    "in_reply_to", "author_audience", "author_remote_id", "lang", "received_at", "status",
    "priority", "assignee", "tags", "first_reply_due", "replied_at", "resolved_at",
    "snoozed_until", "reply_text", "reply_author", "author_created_at", "author_verified",
)  # fmt: skip


def _check_bulk_field_order() -> None:
    if tuple(f.name for f in fields(NewMention)) != BULK_FIELD_ORDER:
        raise RuntimeError("NewMention fields changed: update bulk_mentions' positional call")

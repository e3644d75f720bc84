"""The agent's configuration file: ``config.toml``, read once at start-up.

Loading is all-or-nothing. The file is parsed, every value is checked, and only then is a frozen
`Config` built; any problem raises one `ConfigError` that lists every mistake with the file, the
key path and what was expected, so an agent fixes the file in one go instead of meeting a
half-applied setup (say, new keys but the old theme) at the start of a shift.

This module is domain code and must not import Textual (an import-linter contract checks it): the
key-name rules below mirror Textual 8.2.8's, and ``tests/console/test_config.py`` cross-checks
them against ``textual.keys`` so a Textual upgrade that changes them fails loudly.
"""

from __future__ import annotations

import re
import string
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from console import paths
from console.listening_config import (
    CrisisSettings,
    ListeningConfig,
    parse_crisis,
    parse_listening,
)
from console.toml_words import choice_hint, did_you_mean, toml_type_name
from console.triage import TriageConfig
from console.triage_config import parse_triage

# --- Contracts shared with the rest of the console --------------------------------------------

# The keymap contract of docs/ARCHITECTURE.md: binding id -> default keys. Every Binding in the app
# carries one of these ids so `App.set_keymap(config.keys)` can remap it.
DEFAULT_KEYS: Mapping[str, str] = MappingProxyType(
    {
        "down": "j,down",
        "up": "k,up",
        "first": "g,home",
        "last": "G,end",
        "page_down": "pagedown",
        "page_up": "pageup",
        "open": "enter",
        "reply": "r",
        "template": "t",
        "send": "ctrl+s",
        "next_field": "ctrl+f",
        "resolve": "e",
        "reopen": "o",
        "snooze": "s",
        "assign": "a",
        "note": "n",
        "tag": "#",
        "links": "l",
        "search": "/",
        "filter": "f",
        "help": "?",
        "palette": "ctrl+p",
        "back": "escape",
        "quit": "q",
        "spam": "x",
        "crisis": "C",
        "pin_note": "P",
        "listening": "w",
        "toggle_select": "space",
        "select_all": "A",
        "promote": "p",
        "stats": "S",
    }
)
BINDING_IDS: tuple[str, ...] = tuple(DEFAULT_KEYS)

# User-facing theme names. They live here rather than in `themes` because that package imports
# Textual; tests/console/test_themes.py checks that `themes.THEMES` has exactly these keys.
THEME_NAMES: tuple[str, ...] = ("dark", "light", "high-contrast", "lowbw")


class ConfigError(ValueError):
    """The configuration file cannot be used. ``str(error)`` is ready to print to the agent.

    ``problems`` holds one line per mistake, each already prefixed with the file (and, for
    syntax errors, ``:line:column``), so the CLI can print them as they are.
    """

    def __init__(self, path: Path, problems: Iterable[str]) -> None:
        self.path = path
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("\n".join(self.problems))


# --- The configuration objects ----------------------------------------------------------------

if TYPE_CHECKING:
    from console.sla_policy import SlaRules

SLA_DEFAULT_FIRST_REPLY_MINUTES = 60  # the "one-hour" preset


@dataclass(frozen=True)
class AgentConfig:
    """Who is at the keyboard.

    ``id`` is the short login stored in ``assigned_to`` when the agent presses "assign to me";
    ``signature`` is appended to replies as written (empty means no signature).
    """

    name: str = "Agent"
    first_name: str = "Agent"
    signature: str = "— Agent"
    id: str = "agent"

    @classmethod
    def from_name(
        cls,
        name: str,
        *,
        first_name: str | None = None,
        signature: str | None = None,
        id: str | None = None,
    ) -> AgentConfig:
        """Derive what is missing from the name.

        "Marie Curie" gives first name "Marie", signature "— Marie" and id "marie.curie".
        """
        first = first_name if first_name is not None else _first_name(name)
        return cls(
            name=name,
            first_name=first,
            signature=signature if signature is not None else f"— {first}",
            id=id if id is not None else _login_from(name),
        )


@dataclass(frozen=True)
class SlaConfig:
    """The ``[sla]`` section: `rules` are the policies (console.sla_config parses the full
    syntax; `console.sla_planner.ConfigPlanner` applies them). `first_reply_minutes` and
    `warn_minutes` are the default policy's, for callers that need one number.

    Built directly, `rules` follows the two numbers: 60 minutes is the "one-hour" preset (what
    an absent section means), anything else the older form's 24/7 "default" policy.
    """

    first_reply_minutes: int = 60
    warn_minutes: int = 15
    # Never None after __post_init__; not compared, so two configs with the same numbers and
    # different spellings of the same policy (preset vs older form) still compare equal.
    rules: SlaRules = field(default=None, compare=False, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.rules is None:
            from console.sla_config import parse_sla_section  # it imports this module

            table: dict[str, int] = {"warn_minutes": self.warn_minutes}
            if self.first_reply_minutes != SLA_DEFAULT_FIRST_REPLY_MINUTES:
                table["first_reply_minutes"] = self.first_reply_minutes
            object.__setattr__(self, "rules", parse_sla_section(table))

    @property
    def first_reply_seconds(self) -> int:
        return self.first_reply_minutes * 60

    @property
    def warn_seconds(self) -> int:
        return self.warn_minutes * 60


@dataclass(frozen=True)
class Config:
    """The whole, validated configuration. ``keys`` holds only the agent's overrides.

    ``keys`` maps binding id -> comma-separated Textual key names, already normalised (``#`` is
    stored as ``number_sign``, modifiers sorted) so it can be handed to ``App.set_keymap`` as is.
    ``keymap`` gives the effective map (defaults merged with overrides) for help screens.
    """

    agent: AgentConfig = field(default_factory=AgentConfig)
    sla: SlaConfig = field(default_factory=SlaConfig)
    theme: str = "dark"
    language: str = "en"
    keys: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    triage: TriageConfig = field(default_factory=TriageConfig)
    listening: ListeningConfig = field(default_factory=ListeningConfig)
    crisis: CrisisSettings = field(default_factory=CrisisSettings)

    @property
    def keymap(self) -> Mapping[str, str]:
        merged = {binding: normalize_keys(keys) for binding, keys in DEFAULT_KEYS.items()}
        merged.update(self.keys)
        return MappingProxyType(merged)


# --- Key names (mirrors Textual 8.2.8: textual/keys.py and textual/_xterm_parser.py) ----------

# Modifiers in the order Textual reports them: the kitty-protocol parser sorts them
# alphabetically, and the legacy names ("ctrl+shift+up") happen to agree.
_MODIFIERS = frozenset({"alt", "ctrl", "hyper", "meta", "shift", "super"})
_NAMED_KEYS = frozenset(
    {
        "escape", "enter", "return", "tab", "space", "backspace", "insert", "delete",
        "home", "end", "pageup", "pagedown", "up", "down", "left", "right", "newline",
        *(f"f{n}" for n in range(1, 25)),
    }
)  # fmt: skip
# textual.keys.KEY_NAME_REPLACEMENTS: friendlier names for a few Unicode character names.
_CHARACTER_NAME_REPLACEMENTS = {
    "solidus": "slash",
    "reverse_solidus": "backslash",
    "commercial_at": "at",
    "hyphen_minus": "minus",
    "plus_sign": "plus",
    "low_line": "underscore",
}


def character_to_key(character: str) -> str:
    """The Textual key name of one printable character: "#" -> "number_sign", "G" -> "G"."""
    if character.isalnum():
        return character
    name = unicodedata.name(character).lower().replace("-", "_").replace(" ", "_")
    return _CHARACTER_NAME_REPLACEMENTS.get(name, name)


# Names accepted for punctuation, so "question_mark" and "?" are equally valid in the file.
_CHARACTER_KEY_NAMES = frozenset(character_to_key(c) for c in string.punctuation)


def _normalize_key(token: str) -> str:
    """One key (``ctrl+s``, ``G``, ``?``) -> Textual's spelling; ValueError says what is wrong."""
    if token == "+":  # the only key whose name contains the separator
        return "plus"
    *modifiers, base = token.split("+")
    mods = [m.lower() for m in modifiers]
    for modifier in mods:
        if modifier not in _MODIFIERS:
            raise ValueError(
                f"unknown modifier {modifier!r} in {token!r} "
                f"(modifiers are {', '.join(sorted(_MODIFIERS))})"
            )
    if len(set(mods)) != len(mods):
        raise ValueError(f"repeated modifier in {token!r}")
    if len(base) == 1:
        if not base.isprintable() or base.isspace():
            raise ValueError(f"{token!r} is not a key; write 'space' for the space bar")
        key = character_to_key(base)
    elif base.lower() in _NAMED_KEYS or base.lower() in _CHARACTER_KEY_NAMES:
        key = base.lower()
    else:
        suggestion = did_you_mean(base.lower(), _NAMED_KEYS | _CHARACTER_KEY_NAMES)
        raise ValueError(f"unknown key {base!r} in {token!r}{suggestion}")
    return "+".join([*sorted(mods), key])


def normalize_keys(keys: str) -> str:
    """A comma-separated key list in Textual's spelling; ValueError on an empty or unknown key."""
    # "," separates keys, so a lone "," is ambiguous; Textual spells that key "comma".
    tokens = [token.strip() for token in keys.split(",")]
    if any(not token for token in tokens):
        raise ValueError(f"empty key in {keys!r} (write 'comma' for the , key)")
    normalized = [_normalize_key(token) for token in tokens]
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"the same key appears twice in {keys!r}")
    return ",".join(normalized)


# --- Loading ----------------------------------------------------------------------------------

_AGENT_KEYS = ("name", "first_name", "signature", "id")
_SLA_KEYS = ("first_reply_minutes", "warn_minutes")
_TOP_KEYS = ("agent", "sla", "theme", "language", "keys", "triage", "listening", "crisis")

# A login: short, lowercase, safe in a database column, a URL and a log line.
_LOGIN = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")
# A BCP 47-ish language tag as used by the template files: "en", "fr", "pt-BR", "zh-Hant".
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
# tomllib appends one of these to each message; we move the position to the front.
_TOML_AT = re.compile(r"^(?P<msg>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$", re.S)
_TOML_AT_END = re.compile(r"^(?P<msg>.*) \(at end of document\)$", re.S)


def load_config(path: Path | None = None) -> Config:
    """Read and validate the configuration file (default: `console.paths.config_path()`).

    A missing file gives the defaults: a new agent can start without writing one. Anything else
    that is wrong raises `ConfigError`, and nothing is returned half-configured.
    """
    path = paths.config_path() if path is None else path
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config()
    except OSError as error:  # a directory, no permission, ...
        raise ConfigError(path, [f"{path}: cannot read: {error.strerror or error}"]) from error
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = _position(raw[: error.start].decode("utf-8", "replace"))
        raise ConfigError(path, [f"{path}:{line}:{column}: not valid UTF-8"]) from error
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, [_syntax_message(path, str(error), text)]) from error
    return config_from_dict(document, path)


def config_from_dict(document: Mapping[str, Any], path: Path) -> Config:
    """Validate an already-parsed document; ``path`` only labels the messages."""
    checker = _Checker(path)
    config = checker.config(document)
    if checker.problems or config is None:
        raise ConfigError(path, checker.problems)
    return config


def _position(text_before: str) -> tuple[int, int]:
    """1-based line and column of the character following ``text_before``."""
    line = text_before.count("\n") + 1
    column = len(text_before) - (text_before.rfind("\n") + 1) + 1
    return line, column


def _syntax_message(path: Path, message: str, text: str) -> str:
    """Put tomllib's "(at line 12, column 5)" up front: "config.toml:12:5: expected ..."."""
    if match := _TOML_AT.match(message):
        line, column = int(match["line"]), int(match["col"])
        message = match["msg"]
    elif match := _TOML_AT_END.match(message):
        line, column = _position(text)
        message = f"{match['msg']} (at end of file)"
    else:  # a tomllib that words it differently: still name the file
        line, column = _position(text)
    # Lower-case the first word like compilers do, but leave "TOML" or "URL" alone.
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    return f"{path}:{line}:{column}: {message}"


def _first_name(name: str) -> str:
    parts = name.split()
    return parts[0] if parts else name


def _login_from(name: str) -> str:
    """A login from a name: "Zoë Dupont-Léger" -> "zoe.dupont-leger" ("agent" if empty)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    login = re.sub(r"[^a-z0-9-]+", ".", ascii_name.lower()).strip(".-")[:32].strip(".-")
    return login or "agent"


class _Checker:
    """Collects every problem instead of stopping at the first one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"{self.path}: {key}: {message}")

    def table(self, document: Mapping[str, Any], key: str) -> Mapping[str, Any]:
        value = document.get(key, {})
        if not isinstance(value, dict):
            self.problem(key, f"expected a table ([{key}]), got {toml_type_name(value)}")
            return {}
        return value

    def unknown_keys(self, table: Mapping[str, Any], prefix: str, known: Iterable[str]) -> None:
        known = tuple(known)
        for key in table:
            if key not in known:
                where = f"{prefix}.{key}" if prefix else key
                hint = choice_hint(key, known)
                self.problem(where, f"unknown setting{hint}")

    def text(
        self, table: Mapping[str, Any], key: str, where: str, *, allow_empty: bool = False
    ) -> str | None:
        """A string value, or None when absent or wrong (the problem is recorded)."""
        if key not in table:
            return None
        value = table[key]
        if not isinstance(value, str):
            self.problem(where, f"expected a string, got {toml_type_name(value)}")
            return None
        if not allow_empty and not value.strip():
            self.problem(where, "must not be empty")
            return None
        # Names and signatures end up on screen and in replies: a stray control character
        # (pasted from a terminal) would corrupt both. Newlines are fine in a signature.
        if any(unicodedata.category(c) == "Cc" and c != "\n" for c in value):
            self.problem(where, "must not contain control characters")
            return None
        return value

    def minutes(self, table: Mapping[str, Any], key: str, default: int) -> int:
        if key not in table:
            return default
        value = table[key]
        where = f"sla.{key}"
        # bool is an int in Python but `first_reply_minutes = true` is a mistake in TOML.
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(where, f"expected a whole number of minutes, got {toml_type_name(value)}")
            return default
        if value <= 0:
            self.problem(where, f"expected a positive number of minutes, got {value}")
            return default
        return value

    def config(self, document: Mapping[str, Any]) -> Config | None:
        self.unknown_keys(document, "", _TOP_KEYS)
        theme = Config.theme
        if "theme" in document:
            value = document["theme"]
            if not isinstance(value, str):
                self.problem("theme", f"expected a string, got {toml_type_name(value)}")
            elif value not in THEME_NAMES:
                self.problem(
                    "theme", f"unknown theme {value!r} (expected one of: {', '.join(THEME_NAMES)})"
                )
            else:
                theme = value

        language = Config.language
        if "language" in document:
            value = document["language"]
            if not isinstance(value, str):
                self.problem("language", f"expected a string, got {toml_type_name(value)}")
            elif not _LANGUAGE.fullmatch(value):
                self.problem(
                    "language",
                    f"expected a language tag such as 'en', 'fr' or 'pt-BR', got {value!r}",
                )
            else:
                language = value

        # Tables after top-level settings: problems come out in the order of the example file.
        agent = self.agent(self.table(document, "agent"))
        sla = self.sla(self.table(document, "sla"))
        keys = self.keys(self.table(document, "keys"))
        triage, triage_problems = parse_triage(self.table(document, "triage"))
        for where, message in triage_problems:
            self.problem(where, message)
        listening, listening_problems = parse_listening(self.table(document, "listening"))
        crisis, crisis_problems = parse_crisis(self.table(document, "crisis"))
        for where, message in (*listening_problems, *crisis_problems):
            self.problem(where, message)

        if self.problems or agent is None or sla is None or keys is None:
            return None
        return Config(agent=agent, sla=sla, theme=theme, language=language, keys=keys,
                      listening=listening, crisis=crisis, triage=triage)

    def agent(self, table: Mapping[str, Any]) -> AgentConfig | None:
        self.unknown_keys(table, "agent", _AGENT_KEYS)
        before = len(self.problems)
        name = self.text(table, "name", "agent.name")
        first_name = self.text(table, "first_name", "agent.first_name")
        signature = self.text(table, "signature", "agent.signature", allow_empty=True)
        login = self.text(table, "id", "agent.id")
        if login is not None and not _LOGIN.fullmatch(login):
            self.problem(
                "agent.id",
                "expected a short login: 1-32 of a-z, 0-9, '.', '_', '-', "
                f"starting with a letter or digit, got {login!r}",
            )
        if len(self.problems) != before:
            return None
        if name is None and first_name is None and signature is None and login is None:
            return AgentConfig()
        return AgentConfig.from_name(
            (name or AgentConfig.name).strip(),
            first_name=first_name.strip() if first_name is not None else None,
            signature=signature,
            id=login,
        )

    def sla(self, table: Mapping[str, Any]) -> SlaConfig | None:
        if not set(table) <= set(_SLA_KEYS):
            return self.sla_policies(table)
        before = len(self.problems)
        first_reply = self.minutes(table, "first_reply_minutes", SlaConfig.first_reply_minutes)
        warn = self.minutes(table, "warn_minutes", SlaConfig.warn_minutes)
        if len(self.problems) != before:
            return None
        # A warning window as long as the target would show every fresh mention amber: that
        # hides the signal the colour exists for, so it is almost certainly a typo.
        if warn >= first_reply:
            self.problem(
                "sla.warn_minutes",
                f"expected fewer minutes than sla.first_reply_minutes ({first_reply}), got {warn}",
            )
            return None
        if not table:
            return SlaConfig()
        from console.sla_config import parse_sla_section  # it imports this module

        return SlaConfig(first_reply_minutes=first_reply, warn_minutes=warn,
                         rules=parse_sla_section(table))

    def sla_policies(self, table: Mapping[str, Any]) -> SlaConfig | None:
        """The full syntax (presets, calendars, policies, rules): console/sla_config.py checks
        it and names every mistake by key path; the file name is added here."""
        from console.sla_config import SlaConfigError, parse_sla_section

        try:
            rules = parse_sla_section(table)
        except SlaConfigError as error:
            for key, message in error.problems:
                self.problem(key, message)
            return None
        default = rules.policies[rules.default]
        first_reply = default.first_reply
        return SlaConfig(
            first_reply_minutes=(
                first_reply // 60 if first_reply is not None else SLA_DEFAULT_FIRST_REPLY_MINUTES
            ),
            warn_minutes=default.warn // 60,
            rules=rules,
        )

    def keys(self, table: Mapping[str, Any]) -> Mapping[str, str] | None:
        before = len(self.problems)
        overrides: dict[str, str] = {}
        for binding, value in table.items():
            where = f"keys.{binding}"
            if binding not in DEFAULT_KEYS:
                self.problem(where, f"unknown binding id{choice_hint(binding, BINDING_IDS)}")
                continue
            # Both `reply = "r,ctrl+r"` and `reply = ["r", "ctrl+r"]` read naturally in TOML.
            if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                value = ",".join(value)
            if not isinstance(value, str):
                self.problem(
                    where,
                    'expected a string of comma-separated keys (e.g. "j,down") '
                    f"or an array of strings, got {toml_type_name(value)}",
                )
                continue
            try:
                overrides[binding] = normalize_keys(value)
            except ValueError as error:
                self.problem(where, str(error))
        if len(self.problems) != before:
            return None

        # One key, one action: with a clash Textual silently runs whichever binding it meets
        # first, which is exactly the surprise a remap must not produce mid-shift.
        effective = {binding: normalize_keys(keys) for binding, keys in DEFAULT_KEYS.items()}
        effective.update(overrides)
        owner: dict[str, str] = {}
        for binding, keys in effective.items():
            for key in keys.split(","):
                other = owner.setdefault(key, binding)
                if other != binding:
                    # Blame the override, since that is the line the agent just wrote.
                    blamed, kept = (binding, other) if binding in overrides else (other, binding)
                    self.problem(
                        f"keys.{blamed}",
                        f"key {key!r} is already bound to {kept!r} "
                        f"(currently {effective[kept]!r}); remap {kept!r} too or pick another key",
                    )
        if len(self.problems) != before:
            return None
        return MappingProxyType(overrides)


# --- Example file -----------------------------------------------------------------------------


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def example_config() -> str:
    """A commented config.toml: loading it as is gives exactly the defaults.

    Printed by ``comptoir`` and pasted into the README; the key section is generated from
    `DEFAULT_KEYS`, so it cannot drift from the keymap contract.
    """
    defaults = Config()
    key_lines = "\n".join(
        f"# {binding} = {_toml_string(keys)}" for binding, keys in DEFAULT_KEYS.items()
    )
    return _example_text(defaults, key_lines)


def _example_text(defaults: Config, key_lines: str) -> str:
    # Top-level settings must come before the first [table] in TOML, hence this order.
    return f"""\
# Comptoir configuration (TOML). Loading this file as is gives the defaults.
# Location: $COMPTOIR_HOME/config.toml when COMPTOIR_HOME is set, otherwise the per-user
# config directory (~/.config/comptoir/config.toml on Linux).

# Colour theme: {", ".join(THEME_NAMES)}.
# lowbw uses the 16 ANSI colours only: best on slow links and basic terminals.
theme = {_toml_string(defaults.theme)}

# Preferred template language (a tag such as "en", "fr", "pt-BR").
language = {_toml_string(defaults.language)}

[agent]
# Your name as colleagues see it in assignments and notes.
name = {_toml_string(defaults.agent.name)}
# Derived from name unless set here: its first word, "— " and that word ("" for no
# signature), and a login recorded when you "assign to me" (a-z, 0-9, '.', '_', '-').
# first_name = {_toml_string(defaults.agent.first_name)}
# signature = {_toml_string(defaults.agent.signature)}
# id = {_toml_string(defaults.agent.id)}

[sla]
# A preset in one line: "one-hour" (first reply within an hour, around the clock) or
# "thirty-minutes" (every customer message answered within 30 minutes, around the clock).
# The older form still works instead of a preset: first_reply_minutes = 60.
preset = "one-hour"
# The SLA badge turns amber this many minutes before a deadline.
warn_minutes = {defaults.sla.warn_minutes}
# Or policies of your own, picked by rules (first match wins; `default` when none does).
# Targets count business time on the policy's calendar; pending and snoozed stop the clock.
# default = "standard"
#
# [sla.calendars.paris]                  # "24/7" is built in
# timezone = "Europe/Paris"
# hours = {{ mon-fri = ["09:00-12:30", "13:30-18:00"], sat = ["10:00-13:00"] }}
# holidays = [2026-12-25, 2027-01-01]
#
# [[sla.policies]]
# name = "standard"
# calendar = "paris"
# first_reply_minutes = 60               # at least one of the three targets
# next_reply_minutes = 120               # after each customer message once we replied
# resolution_minutes = 1440
# pause_statuses = ["pending", "snoozed"]
# warn_minutes = 10
#
# [[sla.rules]]                          # every condition given must match
# policy = "thirty-minutes"              # a policy above or a preset
# channel = ["x", "bluesky"]
# min_priority = 2                       # also: priority = [2, 3], tag = "outage",
# customer_tag = "vip"                   #       customer_tag = "vip"

[triage]
# Priority points for a large audience from this many followers (more from ten times this).
audience_threshold = {defaults.triage.audience_threshold}
# Spam points (link-only, scam words, new account, insults...) that send a mention to the
# spam lane: f then "Spam / trolls" shows it, x marks a mention spam or not spam.
spam_threshold = {defaults.triage.spam_threshold}
# Past mentions that make a customer loyal: their positive messages are tagged "delight".
loyal_after = {defaults.triage.loyal_after}
# Accounts younger than this many days count as new (when the channel says).
new_account_days = {defaults.triage.new_account_days}
# Handles ("@name") or words that send a mention straight to the spam lane.
block_list = []
# Keywords and weights, added to the built-in lists (weight 0 removes a built-in one);
# accents and case do not matter, a final * matches the start of words:
# [triage.keywords.fr]
# avocat = 3
# "rembours*" = 1
# [triage.keywords.en]
# lawyer = 3

[listening]
# Watch lists: posts about the brand and competitors, outside the queue (key w).
# keywords = ["Fibrelle"]
# hashtags = ["#PanneFibrelle"]
# competitors = ["Orbicom", "NéoLigne"]
# interval_minutes = 5

[crisis]
# A topic (hashtag, keyword below, or near-identical texts) spikes when its count in the
# last window_minutes reaches max(min_count, ratio x mean, mean + sigmas x stdev) of its
# own baseline over the previous baseline_hours.
# keywords = ["panne", "outage"]
# window_minutes = 15
# baseline_hours = 6
# min_count = 10
# ratio = 3.0
# sigmas = 3.0
# clusters = true

[keys]
# Remap an action with a comma-separated list ("j,down") or an array (["j", "down"]).
# Modifiers: alt, ctrl, hyper, meta, shift, super (e.g. "ctrl+r"). One key, one action.
# Uncomment a line to change it; the values shown are the defaults.
{key_lines}
"""

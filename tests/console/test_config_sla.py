"""The `[sla]` section of config.toml as Comptoir loads it: presets, the older two keys, the full
policy syntax, and mistakes named by file and key (console/config.py over console/sla_config.py)."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest

from console.config import ConfigError, SlaConfig, example_config, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_section_is_the_one_hour_preset(tmp_path: Path) -> None:
    sla = load_config(write(tmp_path, "theme = 'dark'\n")).sla
    assert sla.rules.default == "one-hour"
    policy = sla.rules.policies["one-hour"]
    assert (policy.first_reply, policy.next_reply, policy.warn) == (3600, 3600, 900)
    assert policy.calendar.is_always_open
    assert SlaConfig().rules.default == "one-hour"


def test_older_keys_map_to_a_24_7_default_policy(tmp_path: Path) -> None:
    sla = load_config(write(tmp_path, "[sla]\nfirst_reply_minutes = 30\nwarn_minutes = 10\n")).sla
    assert (sla.first_reply_minutes, sla.warn_minutes) == (30, 10)
    policy = sla.rules.policies[sla.rules.default]
    assert policy.name == "default"
    assert (policy.first_reply, policy.warn) == (1800, 600)
    assert policy.calendar.is_always_open
    # Built directly, the numbers give the same policy.
    assert SlaConfig(first_reply_minutes=30, warn_minutes=10).rules == sla.rules


@pytest.mark.parametrize(("preset", "first", "following"), [
    ("thirty-minutes", 1800, 1800),
    ("one-hour", 3600, 3600),
])
def test_a_preset_in_one_line(tmp_path: Path, preset: str, first: int,
                              following: int | None) -> None:
    sla = load_config(write(tmp_path, f'[sla]\npreset = "{preset}"\n')).sla
    policy = sla.rules.policies[sla.rules.default]
    assert policy.name == preset
    assert (policy.first_reply, policy.next_reply) == (first, following)
    assert sla.first_reply_minutes == first // 60


def test_full_policy_syntax(tmp_path: Path) -> None:
    path = write(tmp_path, """
[sla]
default = "standard"
warn_minutes = 10

[sla.calendars.paris]
timezone = "Europe/Paris"
hours = { mon-fri = ["09:00-12:30", "13:30-18:00"], sat = ["10:00-13:00"] }
holidays = [2026-12-25, "2027-01-01"]

[[sla.policies]]
name = "standard"
calendar = "paris"
first_reply_minutes = 60
next_reply_minutes = 120
resolution_minutes = 1440
pause_statuses = ["pending"]

[[sla.rules]]
policy = "thirty-minutes"
channel = ["x", "bluesky"]
min_priority = 2
customer_tag = "vip"
""")
    sla = load_config(path).sla
    assert (sla.first_reply_minutes, sla.warn_minutes) == (60, 10)
    standard = sla.rules.policies["standard"]
    assert (standard.first_reply, standard.next_reply, standard.resolution) == (3600, 7200, 86400)
    assert standard.pause_statuses == frozenset({"pending"})
    assert standard.calendar.tz == "Europe/Paris"
    assert standard.calendar.holidays == {date(2026, 12, 25), date(2027, 1, 1)}
    assert sla.rules.choose(channel="x", priority=2, customer_tags=["vip"]).name == (
        "thirty-minutes"
    )
    assert sla.rules.choose(channel="mastodon", priority=2, customer_tags=["vip"]).name == (
        "standard"
    )


@pytest.mark.parametrize(("text", "expected"), [
    ('[sla]\npreset = "two-hours"\n', "sla.preset: unknown preset 'two-hours'"),
    (
        '[sla]\n[sla.calendars.paris]\ntimezone = "Europe/Pariss"\n'
        'hours = { mon = ["09:00-18:00"] }\n'
        '[[sla.policies]]\nname = "p"\ncalendar = "paris"\nfirst_reply_minutes = 60\n',
        "sla.calendars.paris.timezone: unknown time zone 'Europe/Pariss'",
    ),
    (
        '[[sla.policies]]\nname = "p"\nfirst_reply_minutes = "1h"\n',
        "sla.policies[0].first_reply_minutes: expected a whole number of minutes, got a string",
    ),
    (
        '[[sla.policies]]\nname = "p"\nfirst_reply_minutes = 60\n'
        '[[sla.rules]]\npolicy = "q"\nchannel = "x"\n',
        "sla.rules[0].policy: unknown policy 'q'",
    ),
    ('[sla]\npreset = "one-hour"\nbreach_minutes = 5\n', "sla.breach_minutes: unknown setting"),
])
def test_policy_mistakes_name_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"{path}: {expected}" in str(caught.value)


def test_example_config_documents_policies_that_load_when_uncommented(tmp_path: Path) -> None:
    lines = example_config().splitlines()
    start = lines.index("[sla]")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("["))
    block = lines[start:end]
    text = "\n".join(block)
    assert 'preset = "one-hour"' in text and "thirty-minutes" in text
    # The commented policy example, uncommented, is valid and uses every part of the syntax.
    example = [line[2:] for line in block if line.startswith("# ") and (
        line[2:3] in ("[", "#") or "=" in line)]
    uncommented = "\n".join(
        line for line in example if not line.startswith(("A preset", "The older"))
    )
    document = tomllib.loads("[sla]\n" + uncommented)
    sla = load_config(write(tmp_path, "[sla]\n" + uncommented)).sla
    assert document["sla"]["default"] == "standard"
    assert sla.rules.policies["standard"].calendar.tz == "Europe/Paris"
    assert len(sla.rules.rules) == 1

"""The [triage] section of config.toml: defaults, a full section, and every mistake named with
the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.config import Config, ConfigError, load_config
from console.triage import DEFAULT_KEYWORDS, TriageConfig
from console.triage_config import parse_triage


def load(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    lines = list(caught.value.problems)
    assert all(line.startswith(f"{path}: ") for line in lines), lines  # the file, every time
    return [line[len(f"{path}: "):] for line in lines]


def test_absent_section_gives_the_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, 'theme = "dark"\n')
    assert config.triage == TriageConfig()
    assert parse_triage({}) == (TriageConfig(), [])
    assert config.triage.keywords["fr"]["avocat"] == 3


def test_a_full_section(tmp_path: Path) -> None:
    config = load(tmp_path, """
[triage]
audience_threshold = 5000
spam_threshold = 4
loyal_after = 5
new_account_days = 30
block_list = ["@pumpbot", "MoonCoin", "@pumpbot"]

[triage.keywords.fr]
"Fibre Noire" = 4
avocat = 0
"rembours*" = 2

[triage.keywords.en]
lawyer = 5
""").triage
    assert (config.audience_threshold, config.spam_threshold, config.loyal_after,
            config.new_account_days) == (5000, 4, 5, 30)
    assert config.block_list == ("@pumpbot", "MoonCoin")
    fr, en = config.keywords["fr"], config.keywords["en"]
    assert fr["fibre noire"] == 4 and fr["rembours*"] == 2 and "avocat" not in fr
    assert en["lawyer"] == 5 and en["refund*"] == DEFAULT_KEYWORDS["en"]["refund*"]


@pytest.mark.parametrize(("text", "expected"), [
    ("[triage]\nspam_threshold = 0\n",
     "triage.spam_threshold: expected a number of at least 1, got 0"),
    ("[triage]\naudience_threshold = \"10k\"\n",
     "triage.audience_threshold: expected a whole number, got a string"),
    ("[triage]\nloyal_after = true\n", "triage.loyal_after: expected a whole number, got a "
     "boolean"),
    ("[triage]\nspam_treshold = 3\n",
     "triage.spam_treshold: unknown setting (did you mean 'spam_threshold'?)"),
    ("[triage]\nblock_list = \"@bot\"\n",
     "triage.block_list: expected an array of strings, got a string"),
    ("[triage]\nblock_list = [\"ok\", 3]\n", "triage.block_list[1]: expected a string, got an "
     "integer"),
    ("[triage]\nblock_list = [\"  \"]\n", "triage.block_list[0]: must not be empty"),
    ("[triage]\nblock_list = [\"a\\u202eb\"]\n",
     "triage.block_list[0]: must not contain control or invisible characters"),
    ("[triage]\nkeywords = [\"avocat\"]\n",
     "triage.keywords: expected a table of languages ([triage.keywords.fr]), got an array"),
    ("[triage.keywords.de]\nanwalt = 3\n",
     "triage.keywords.de: unknown setting (expected one of: fr, en)"),
    ("[triage.keywords.fr]\navocat = 11\n",
     "triage.keywords.fr.avocat: expected a weight from 0 to 10, got 11"),
    ("[triage.keywords.fr]\navocat = \"high\"\n",
     "triage.keywords.fr.avocat: expected a whole-number weight, got a string"),
    ("[triage.keywords.en]\n\"law[yer]\" = 3\n",
     'triage.keywords.en."law[yer]": expected letters, digits, spaces, \' . or -, with an '
     "optional * at the end for a prefix"),
    ("triage = 3\n", "triage: expected a table ([triage]), got an integer"),
])
def test_mistakes_name_the_file_and_the_key(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in problems(tmp_path, text)


def test_every_mistake_is_reported_at_once(tmp_path: Path) -> None:
    found = problems(tmp_path, "[triage]\nspam_threshold = -1\nloyal_after = \"x\"\n"
                               "[triage.keywords.fr]\nnul = 99\n")
    assert [line.split(":")[0] for line in found] == [
        "triage.keywords.fr.nul", "triage.spam_threshold", "triage.loyal_after"]

"""console.config and console.paths: defaults, a full file, and every way a file can be wrong."""

from __future__ import annotations

import os
import string
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from textual.app import App
from textual.keys import Keys, _character_to_key

from console import config as config_module
from console import paths
from console.config import (
    BINDING_IDS,
    DEFAULT_KEYS,
    THEME_NAMES,
    AgentConfig,
    Config,
    ConfigError,
    SlaConfig,
    example_config,
    load_config,
    normalize_keys,
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    # Every message names the file, whatever went wrong.
    assert str(path) in message
    return message


# --- defaults and a full file -----------------------------------------------------------------


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path / "nope.toml")
    assert config == Config()
    assert config.agent == AgentConfig(name="Agent", first_name="Agent", signature="— Agent")
    assert config.agent.id == "agent"
    assert config.sla == SlaConfig(first_reply_minutes=60, warn_minutes=15)
    assert config.sla.warn_seconds == 900  # what console.sla.sla_state(warn=...) expects
    assert config.theme == "dark"
    assert config.language == "en"
    assert dict(config.keys) == {}


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "")) == Config()


def test_config_is_frozen() -> None:
    config = Config()
    with pytest.raises(AttributeError):
        config.theme = "light"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.keys["reply"] = "x"  # type: ignore[index]


def test_full_valid_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
theme = "high-contrast"
language = "pt-BR"

[agent]
name = "Zoë Dupont-Léger"
signature = "Bien à vous,\\nZoë"
id = "zdl"

[sla]
first_reply_minutes = 30
warn_minutes = 10

[keys]
reply = "R,ctrl+r"
down = ["j", "down", "ctrl+n"]
tag = "ctrl+#"
quit = "ctrl+q"
""",
    )
    config = load_config(path)
    assert config.theme == "high-contrast"
    assert config.language == "pt-BR"
    assert config.agent == AgentConfig(
        name="Zoë Dupont-Léger", first_name="Zoë", signature="Bien à vous,\nZoë", id="zdl"
    )
    assert config.sla == SlaConfig(first_reply_minutes=30, warn_minutes=10)
    assert config.sla.first_reply_seconds == 1800
    assert dict(config.keys) == {
        "reply": "R,ctrl+r",
        "down": "j,down,ctrl+n",
        # Textual matches "ctrl+number_sign", never "ctrl+#": we normalise so the remap works.
        "tag": "ctrl+number_sign",
        "quit": "ctrl+q",
    }
    assert config.keymap["reply"] == "R,ctrl+r"
    assert config.keymap["search"] == "slash"  # a default, in Textual's spelling


def test_agent_fields_derive_from_name(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[agent]\nname = "Zoë Dupont-Léger"\n'))
    assert config.agent.first_name == "Zoë"
    assert config.agent.signature == "— Zoë"
    assert config.agent.id == "zoe.dupont-leger"


def test_first_name_feeds_the_signature(tmp_path: Path) -> None:
    path = write(tmp_path, '[agent]\nname = "Dr Marie Curie"\nfirst_name = "Marie"\n')
    assert load_config(path).agent.signature == "— Marie"


def test_empty_signature_means_none(tmp_path: Path) -> None:
    path = write(tmp_path, '[agent]\nname = "Sam"\nsignature = ""\n')
    assert load_config(path).agent.signature == ""


def test_name_with_no_ascii_still_gets_a_login() -> None:
    assert AgentConfig.from_name("李雷").id == "agent"


def test_example_config_loads_to_the_defaults(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, example_config())) == Config()


def test_example_config_key_lines_are_valid_when_uncommented(tmp_path: Path) -> None:
    lines = example_config().splitlines()
    start = lines.index("[keys]")
    uncommented = lines[:start] + [
        line.removeprefix("# ") if line.startswith("# ") and " = " in line else line
        for line in lines[start:]
    ]
    config = load_config(write(tmp_path, "\n".join(uncommented)))
    assert set(config.keys) == set(BINDING_IDS)
    assert dict(config.keymap) == dict(Config().keymap)


def test_example_config_mentions_every_binding_and_theme() -> None:
    text = example_config()
    for binding in BINDING_IDS:
        assert f"# {binding} = " in text
    for theme in THEME_NAMES:
        assert theme in text


# --- syntax errors ----------------------------------------------------------------------------


def test_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    message = error_for(tmp_path, 'theme = "dark"\n\n[agent]\nname "Sam"\n')
    path = tmp_path / "config.toml"
    # tomllib says "Expected '=' after a key ... (at line 4, column 6)"; we lead with it.
    assert message.startswith(f"{path}:4:6: expected '='")
    assert "(at line" not in message


def test_syntax_error_at_end_of_file(tmp_path: Path) -> None:
    message = error_for(tmp_path, 'theme = "dark"\nlanguage = "en')
    assert message.startswith(f"{tmp_path / 'config.toml'}:2:15: unterminated string")


def test_duplicate_key_is_a_syntax_error(tmp_path: Path) -> None:
    message = error_for(tmp_path, 'theme = "dark"\ntheme = "light"\n')
    assert f"{tmp_path / 'config.toml'}:2:" in message


def test_invalid_utf8_names_the_position(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'theme = "dark"\n[agent]\nname = "Ren\xe9"\n')
    with pytest.raises(ConfigError, match=r"config\.toml:3:12: not valid UTF-8"):
        load_config(path)


def test_unreadable_path_is_a_config_error(tmp_path: Path) -> None:
    directory = tmp_path / "config.toml"
    directory.mkdir()
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(directory)


# --- validation errors: each names the file, the key path and what is expected ----------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("colour = 'dark'\n", "colour: unknown setting (expected one of: agent, sla, theme"),
        ("them = 'dark'\n", "them: unknown setting (did you mean 'theme'?)"),
        ("theme = 3\n", "theme: expected a string, got an integer"),
        ("theme = 'solarized'\n", "theme: unknown theme 'solarized' (expected one of: dark, "),
        ("language = 'English'\n", "language: expected a language tag such as 'en'"),
        ("language = ['en']\n", "language: expected a string, got an array"),
        ("agent = 'Sam'\n", "agent: expected a table ([agent]), got a string"),
        ("[agent]\nnmae = 'Sam'\n", "agent.nmae: unknown setting (did you mean 'name'?)"),
        ("[agent]\nname = ''\n", "agent.name: must not be empty"),
        ("[agent]\nname = 42\n", "agent.name: expected a string, got an integer"),
        ('[agent]\nname = "Sam\\u001b[2J"\n', "agent.name: must not contain control characters"),
        ("[agent]\nid = 'Sam Smith'\n", "agent.id: expected a short login"),
        ("[sla]\nfirst_reply_minutes = 0\n", "sla.first_reply_minutes: expected a positive"),
        ("[sla]\nwarn_minutes = -5\n", "sla.warn_minutes: expected a positive number of minutes"),
        ("[sla]\nfirst_reply_minutes = 1.5\n", "sla.first_reply_minutes: expected a whole number"),
        ("[sla]\nwarn_minutes = true\n", "sla.warn_minutes: expected a whole number of minutes"),
        (
            "[sla]\nfirst_reply_minutes = '60'\n",
            "sla.first_reply_minutes: expected a whole number of minutes, got a string",
        ),
        (
            "[sla]\nfirst_reply_minutes = 10\nwarn_minutes = 10\n",
            "sla.warn_minutes: expected fewer minutes than sla.first_reply_minutes (10), got 10",
        ),
        ("[sla]\nbreach_minutes = 5\n", "sla.breach_minutes: unknown setting"),
        ("keys = 'vim'\n", "keys: expected a table ([keys]), got a string"),
    ],
)
def test_validation_errors(tmp_path: Path, text: str, expected: str) -> None:
    message = error_for(tmp_path, text)
    assert f"{tmp_path / 'config.toml'}: {expected}" in message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "theme = 'pink'\n[sla]\nwarn_minutes = 0\n[keys]\nrepyl = 'r'\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert [problem.split(": ")[1] for problem in caught.value.problems] == [
        "theme",
        "sla.warn_minutes",
        "keys.repyl",
    ]
    assert caught.value.path == path


def test_one_bad_value_means_no_config(tmp_path: Path) -> None:
    # Nothing half-configured: valid keys and theme do not survive one bad SLA value.
    path = write(tmp_path, "theme = 'light'\n[keys]\nreply = 'x'\n[sla]\nwarn_minutes = 0\n")
    with pytest.raises(ConfigError):
        load_config(path)


# --- key remaps -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[keys]\nrepyl = 'r'\n", "keys.repyl: unknown binding id (did you mean 'reply'?)"),
        ("[keys]\nfly = 'x'\n", "keys.fly: unknown binding id (expected one of: down, up,"),
        ("[keys]\nreply = ''\n", "keys.reply: empty key in ''"),
        ("[keys]\nreply = 'r,,x'\n", "keys.reply: empty key in 'r,,x' (write 'comma'"),
        ("[keys]\nreply = 'pgdn'\n", "keys.reply: unknown key 'pgdn' in 'pgdn'"),
        ("[keys]\nreply = 'pagedwn'\n", "keys.reply: unknown key 'pagedwn' in 'pagedwn' (did you"),
        ("[keys]\nreply = 'cmd+r'\n", "keys.reply: unknown modifier 'cmd' in 'cmd+r'"),
        ("[keys]\nreply = 'ctrl+ctrl+r'\n", "keys.reply: repeated modifier"),
        ("[keys]\nreply = ' '\n", "keys.reply: empty key"),
        ("[keys]\nreply = 'r,r'\n", "keys.reply: the same key appears twice"),
        ("[keys]\nreply = 5\n", "keys.reply: expected a string of comma-separated keys"),
        ("[keys]\nreply = []\n", "keys.reply: expected a string of comma-separated keys"),
        (
            "[keys]\nreply = 'j'\n",
            "keys.reply: key 'j' is already bound to 'down' (currently 'j,down'); remap 'down' too",
        ),
        # "?" and "question_mark" are the same key to Textual, so this clashes with help.
        ("[keys]\nsearch = 'question_mark'\n", "keys.search: key 'question_mark' is already"),
    ],
)
def test_key_remap_errors(tmp_path: Path, text: str, expected: str) -> None:
    assert f"{tmp_path / 'config.toml'}: {expected}" in error_for(tmp_path, text)


def test_swapping_two_keys_is_not_a_clash(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[keys]\nreply = 'e'\nresolve = 'r'\n"))
    assert dict(config.keys) == {"reply": "e", "resolve": "r"}


def test_keys_are_normalised_for_textual() -> None:
    assert normalize_keys(" ? , Shift+Ctrl+Up ") == "question_mark,ctrl+shift+up"
    assert normalize_keys("+") == "plus"
    assert normalize_keys("-,/,@,_") == "minus,slash,at,underscore"
    assert normalize_keys("comma") == "comma"
    assert normalize_keys("é") == "é"


def test_binding_ids_are_the_keymap_contract() -> None:
    assert BINDING_IDS == (
        "down", "up", "first", "last", "page_down", "page_up", "open", "reply", "template",
        "send", "next_field", "resolve", "reopen", "snooze", "assign", "note", "tag", "links",
        "search", "filter", "help", "palette", "back", "quit", "spam",
        "crisis", "pin_note", "listening", "toggle_select", "select_all", "promote",
        "stats",
    )  # fmt: skip
    assert tuple(DEFAULT_KEYS) == BINDING_IDS


def test_character_names_match_textual() -> None:
    # Our copy of Textual's key naming must agree with the real one for every ASCII key.
    for character in string.ascii_letters + string.digits + string.punctuation:
        assert config_module.character_to_key(character) == _character_to_key(character)


def test_textual_named_keys_are_accepted() -> None:
    for key in Keys:
        if key.value.startswith("<") or "-" in key.value:
            continue  # internal pseudo-keys and the "ctrl-at" legacy alias
        if key.value in {"ctrl+@"}:
            continue  # Textual's own key is spelled "ctrl+at"; "@" is normalised to "at"
        normalize_keys(key.value)  # must not raise


def test_normalised_keymap_is_what_textual_would_store() -> None:
    keymap = Config().keymap
    assert dict(App._normalize_keymap(keymap)) == dict(keymap)


# --- paths ------------------------------------------------------------------------------------


def test_comptoir_home_holds_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("COMPTOIR_HOME", str(home))
    assert paths.default_db_path() == home / "comptoir.db"
    assert paths.config_path() == home / "config.toml"
    assert paths.log_dir() == home / "logs"
    assert not home.exists()  # asking for a path creates nothing


def test_directories_are_created_only_on_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("COMPTOIR_HOME", str(home))
    db = paths.default_db_path(create=True)
    assert db.parent.is_dir() and not db.exists()
    assert paths.log_dir(create=True).is_dir()
    config = paths.config_path(create=True)
    assert config.parent.is_dir() and not config.exists()


def test_load_config_reads_from_comptoir_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMPTOIR_HOME", str(tmp_path))
    (tmp_path / "config.toml").write_text("theme = 'lowbw'\n", encoding="utf-8")
    assert load_config().theme == "lowbw"


def test_relative_and_tilde_homes_become_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COMPTOIR_HOME", "trainer")
    assert paths.config_path() == tmp_path / "trainer" / "config.toml"
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("COMPTOIR_HOME", "~/c")
    assert paths.default_db_path() == tmp_path / "c" / "comptoir.db"


def test_without_comptoir_home_platform_dirs_are_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMPTOIR_HOME", "")  # empty counts as unset
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    if paths.platformdirs.user_data_path("x", False) != tmp_path / "data" / "x":
        pytest.skip("not an XDG platform")
    assert paths.default_db_path() == tmp_path / "data" / "comptoir" / "comptoir.db"
    assert paths.config_path() == tmp_path / "config" / "comptoir" / "config.toml"
    assert paths.log_dir().is_relative_to(tmp_path / "state" / "comptoir")
    assert not (tmp_path / "data").exists()


def test_importing_and_loading_create_nothing(tmp_path: Path) -> None:
    # A fresh interpreter, so module-level code really runs: no directory may appear.
    home = tmp_path / "home"
    env = {**os.environ, "COMPTOIR_HOME": str(home)}
    code = "import console.paths, console.config; console.config.load_config()"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=Path.cwd())
    assert not home.exists()


def test_example_config_is_toml() -> None:
    assert tomllib.loads(example_config())["theme"] == "dark"


def test_keymap_contract_matches_the_bindings() -> None:
    """config.DEFAULT_KEYS (Textual-free, for validation) and console.actions (the bindings)
    describe one keymap: an id or key changed in one place must be changed in the other."""
    from console.actions import ALL_ACTIONS
    from console.config import DEFAULT_KEYS, normalize_keys

    assert {action.id for action in ALL_ACTIONS} == set(DEFAULT_KEYS)
    for action in ALL_ACTIONS:
        assert normalize_keys(action.keys) == normalize_keys(DEFAULT_KEYS[action.id]), action.id

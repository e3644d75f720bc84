"""Where Comptoir keeps its database, configuration and logs.

Per-user platform directories come from platformdirs (XDG on Linux, ~/Library on macOS,
%LOCALAPPDATA% on Windows). Setting ``COMPTOIR_HOME`` replaces all of them with one directory,
so tests, trainers and demo machines get a self-contained, throw-away installation:

    $COMPTOIR_HOME/comptoir.db
    $COMPTOIR_HOME/config.toml
    $COMPTOIR_HOME/logs/

Every function reads the environment when called (never at import), so ``monkeypatch.setenv``
works in tests, and nothing is created on disk unless a caller asks for it with ``create=True``:
merely importing the console, or running ``comptoir --help``, must not litter a home directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "comptoir"
HOME_ENV = "COMPTOIR_HOME"
DB_FILENAME = "comptoir.db"
CONFIG_FILENAME = "config.toml"
LOG_DIRNAME = "logs"


def comptoir_home() -> Path | None:
    """The ``COMPTOIR_HOME`` override as an absolute path, or None when unset or empty.

    An empty value counts as unset: ``COMPTOIR_HOME= comptoir`` in a shell script should not
    silently turn the current directory into the data directory.
    """
    value = os.environ.get(HOME_ENV, "").strip()
    if not value:
        return None
    # absolute() rather than resolve(): keep symlinked homes as the user wrote them.
    return Path(value).expanduser().absolute()


def _ensure(directory: Path, create: bool) -> Path:
    if create:
        directory.mkdir(parents=True, exist_ok=True)
    return directory


def data_dir(*, create: bool = False) -> Path:
    """Directory for the database (and its WAL/SHM side files and backups)."""
    home = comptoir_home()
    # appauthor=False: no "Comptoir/Comptoir" doubling on Windows.
    directory = home if home is not None else platformdirs.user_data_path(APP_NAME, False)
    return _ensure(directory, create)


def config_dir(*, create: bool = False) -> Path:
    """Directory holding ``config.toml``."""
    home = comptoir_home()
    directory = home if home is not None else platformdirs.user_config_path(APP_NAME, False)
    return _ensure(directory, create)


def log_dir(*, create: bool = False) -> Path:
    """Directory for log files (``$COMPTOIR_HOME/logs`` under the override)."""
    home = comptoir_home()
    directory = (
        home / LOG_DIRNAME if home is not None else platformdirs.user_log_path(APP_NAME, False)
    )
    return _ensure(directory, create)


def default_db_path(*, create: bool = False) -> Path:
    """The database file; with ``create=True`` its directory exists on return (not the file)."""
    return data_dir(create=create) / DB_FILENAME


def config_path(*, create: bool = False) -> Path:
    """The configuration file; ``create=True`` makes its directory (never writes the file)."""
    return config_dir(create=create) / CONFIG_FILENAME

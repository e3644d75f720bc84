"""Errors the Store raises, each with a message fit to show a user as it is."""

from __future__ import annotations


class StoreError(Exception):
    """Base class: `str(error)` is a one-line message for the user."""


class NotADatabase(StoreError):
    """The file exists but is not a SQLite database (or is corrupt)."""


class NewerSchema(StoreError):
    """The database was written by a newer Comptoir (its schema version is ahead of ours)."""


class Unwritable(StoreError):
    """The database path cannot be created or written."""


class DatabaseLocked(StoreError):
    """Another process holds the write lock for longer than the busy timeout."""


class NotFound(StoreError):
    """A row that the caller named does not exist (any more)."""


class InvalidTransition(StoreError):
    """A status or outbox change that the current state does not allow."""

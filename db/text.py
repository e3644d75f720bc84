"""Text as SQLite can store it.

Payloads from the internet can carry lone UTF-16 surrogates (a broken emoji in a JSON string);
Python holds them, UTF-8 cannot encode them, and sqlite3 would raise mid-transaction. Every text
written by the Store passes through here: lone surrogates become U+FFFD, paired ones are joined,
everything else is kept as it was (showing it safely is the UI's job, not the database's).
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

from db.models import NewCustomer, NewIdentity, NewMention

_Row = TypeVar("_Row", NewMention, NewIdentity)


def storable(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def storable_optional(text: str | None) -> str | None:
    return None if text is None else storable(text)


def _fields_ok(*texts: str | None) -> bool:
    try:
        for text in texts:
            if text is not None:
                text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable_mention(mention: NewMention) -> NewMention:
    m = mention
    if _fields_ok(m.remote_id, m.author_handle, m.author_name, m.text, m.thread_id,
                  m.in_reply_to, m.lang, m.assignee, m.reply_text, m.reply_author,
                  m.author_remote_id, *m.tags):
        return m  # the common case costs one encode per field and no copy
    return dataclasses.replace(
        m,
        remote_id=storable(m.remote_id),
        author_handle=storable(m.author_handle),
        author_name=storable(m.author_name),
        text=storable(m.text),
        thread_id=storable_optional(m.thread_id),
        in_reply_to=storable_optional(m.in_reply_to),
        lang=storable_optional(m.lang),
        assignee=storable_optional(m.assignee),
        reply_text=storable_optional(m.reply_text),
        reply_author=storable_optional(m.reply_author),
        author_remote_id=storable_optional(m.author_remote_id),
        tags=tuple(storable(tag) for tag in m.tags),
    )


def storable_identity(identity: NewIdentity) -> NewIdentity:
    i = identity
    if _fields_ok(i.channel, i.handle, i.display_name, i.remote_user_id):
        return i
    return dataclasses.replace(
        i, handle=storable(i.handle), display_name=storable(i.display_name),
        remote_user_id=storable_optional(i.remote_user_id),
    )


def storable_customer(customer: NewCustomer) -> NewCustomer:
    c = customer
    if _fields_ok(c.display_name, c.first_name, *c.tags):
        return dataclasses.replace(c, identities=tuple(map(storable_identity, c.identities)))
    return dataclasses.replace(
        c,
        display_name=storable(c.display_name),
        first_name=storable(c.first_name),
        tags=tuple(storable(tag) for tag in c.tags),
        identities=tuple(map(storable_identity, c.identities)),
    )

"""The one door through which text from outside (mentions, names, bios, server replies, filled
templates) reaches the screen.

`markup=False` is not enough (see `console.untrusted` for what a post can carry). Text is first
made inert by `clean`, then wrapped in a `Content` built without parsing markup, so
`[@click=app.quit]` stays text.
"""

from __future__ import annotations

from textual.content import Content

from console.untrusted import clean

__all__ = ["clean", "untrusted"]


def untrusted(
    text: object, *, keep_newlines: bool = False, max_chars: int | None = None, style: str = ""
) -> Content:
    """Outside text as a `Content` that renders literally: no markup, no control sequences."""
    return Content.styled(clean(text, keep_newlines=keep_newlines, max_chars=max_chars), style)

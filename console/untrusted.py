"""Outside text made inert: the one cleaning rule for everything Comptoir shows or sends.

A post can carry terminal escape sequences (OSC 52 writes the clipboard, OSC 0 the window title,
CSI 2J clears the screen, a DA query makes the terminal type an answer), bidi overrides that
reorder what the agent reads, and floods of invisible or combining characters. Textual itself
strips only a handful of C0 codes. So: escape sequences are removed whole, every other control
character is dropped, bidi and invisible characters are shown as visible `<U+XXXX>` tags, and
combining floods are cut.

Pure Python with no Textual import, so domain code (templates, exports, the CLI) uses the same
rule as the widgets; `widgets.text.untrusted` wraps it in a markup-free `Content`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

# Whole escape sequences, 7-bit and 8-bit forms: CSI, OSC / DCS / SOS / PM / APC strings
# (terminated by BEL or ST, or running to the end of the text), then any other two-byte ESC form.
_ESCAPE_SEQUENCE: Final = re.compile(
    r"""
    (?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?          # CSI ... final
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]).*?(?:\x07|\x1b\\|\x9c|$)  # string sequences
    | \x1b[\x20-\x2f]*[\x30-\x7e]?                                 # other ESC forms
    """,
    re.VERBOSE | re.DOTALL,
)

# Characters that change how text around them is read without being seen: shown, not obeyed.
_VISIBLE_TAGGED: Final = frozenset(
    (
        0x061C, 0x200B, 0x200C, 0x200E, 0x200F, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064,
        0xFEFF, 0x180E, 0x00AD, 0xFFF9, 0xFFFA, 0xFFFB,
        *range(0x202A, 0x202F),  # embeddings and overrides
        *range(0x2066, 0x206A),  # isolates
        *range(0xE0000, 0xE0080),  # tag characters (invisible "ASCII smuggling")
    )
)
_MAX_COMBINING: Final = 2


def clean(text: object, *, keep_newlines: bool = False, max_chars: int | None = None) -> str:
    """Return `text` as plain, inert, printable text.

    Newlines are kept only when asked (detail views); elsewhere every line break becomes a space
    so a row stays one row. `max_chars` cuts long posts and says how much was left out.
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if max_chars is not None and len(text) > max_chars * 4:
        # Bound the work on 200 KB posts before the per-character pass.
        text = text[: max_chars * 4]
    text = _ESCAPE_SEQUENCE.sub("", text)
    out: list[str] = []
    combining_run = 0
    visible = 0
    cut = False
    for char in text:
        if max_chars is not None and visible >= max_chars:
            cut = True  # something printable may follow: say that the text goes on
            break
        code = ord(char)
        if char == "\n" or code in (0x2028, 0x2029, 0x85):
            out.append("\n" if keep_newlines else " ")
            combining_run = 0
        elif char == "\t":
            out.append("    " if keep_newlines else " ")
            combining_run = 0
        elif code < 0x20 or 0x7F <= code <= 0x9F:
            continue
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\ufffd")  # a lone surrogate from a broken payload
        elif code in _VISIBLE_TAGGED:
            out.append(f"<U+{code:04X}>")
        elif unicodedata.combining(char):
            combining_run += 1
            if combining_run > _MAX_COMBINING:
                continue
            out.append(char)
            continue
        else:
            out.append(char)
            combining_run = 0
        visible += 1
    result = "".join(out)
    if cut:
        result = result.rstrip() + "…"
    return result

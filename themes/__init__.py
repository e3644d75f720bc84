"""Comptoir's four colour themes as Textual `Theme` objects.

The Theme names are exactly the user-facing names of ``config.toml`` (``theme = "lowbw"``):
Textual 8.2.8's built-in themes are all prefixed or branded ("textual-dark", "nord",
"ansi-dark", ...), so "dark", "light", "high-contrast" and "lowbw" clash with none of them, and
the command palette's theme switcher shows the same names the config file accepts. Textual adds
the class ``-theme-<name>`` to the App, so our own .tcss can target ``App.-theme-lowbw``.

* ``dark`` / ``light``: truecolor everyday themes; the SLA colours (success green, warning amber,
  error red) keep at least 4.5:1 against the background so a breach reads at a glance.
* ``high-contrast``: white on black, bright yellow accent and focus, no dimmed text. Every text
  colour meets WCAG AAA (7:1) on black; tests/console/test_themes.py checks it.
* ``lowbw``: the 16 ANSI colours only (``ansi=True``), with the terminal's own default background
  and foreground, for slow links (SSH over mobile, satellite) and basic terminals. See
  `LOWBW_NOTES` for what the App must (not) do.
"""

from __future__ import annotations

from typing import Protocol

from textual.theme import Theme

from console.config import THEME_NAMES

DARK = Theme(
    name="dark",
    primary="#4C9AFF",
    secondary="#2F6FB3",
    accent="#FFB547",
    warning="#F5A524",
    error="#F2555A",
    success="#3DBE6B",
    foreground="#E4E6EB",
    background="#15171C",
    surface="#1C1F26",
    panel="#252A33",
    dark=True,
)

LIGHT = Theme(
    name="light",
    primary="#0A5FC2",
    secondary="#3A6EA5",
    accent="#B45309",
    # Amber that stays readable on white (pure #FFBF00 is 1.6:1 there).
    warning="#9A5B00",
    error="#C4232B",
    success="#1A7F37",
    foreground="#1F2328",
    background="#F7F7F5",
    surface="#FFFFFF",
    panel="#EAECEF",
    dark=False,
)

_HC_YELLOW = "#FFFF00"
HIGH_CONTRAST = Theme(
    name="high-contrast",
    primary=_HC_YELLOW,
    secondary="#00FFFF",
    accent=_HC_YELLOW,
    warning="#FFB000",
    # Plain #FF0000 is only 5.3:1 on black; this red reaches 7.8:1.
    error="#FF7070",
    success="#00FF00",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#000000",
    # Textual's default boost lays a 4% white wash over dark surfaces: a grey, exactly what
    # this theme avoids.
    boost="#00000000",
    dark=True,
    variables={
        # Textual dims text with alpha ("auto 87%", "auto 60%", "auto 38%"): no dim text here.
        # "auto" keeps picking black on yellow and white on black.
        "text": "auto 100%",
        "text-muted": "auto 100%",
        "text-disabled": "auto 80%",
        "foreground-muted": "#FFFFFF",
        "foreground-disabled": "#CCCCCC",
        # Coloured text exactly as given (Textual tints it towards the background by default).
        "text-primary": _HC_YELLOW,
        "text-secondary": "#00FFFF",
        "text-accent": _HC_YELLOW,
        "text-warning": "#FFB000",
        "text-error": "#FF7070",
        "text-success": "#00FF00",
        # The selected row: black on yellow when focused, white on dark grey when not.
        "block-cursor-foreground": "#000000",
        "block-cursor-background": _HC_YELLOW,
        "block-cursor-text-style": "bold",
        "block-cursor-blurred-foreground": "#FFFFFF",
        "block-cursor-blurred-background": "#3A3A3A",
        "block-hover-background": "#262626",
        # Focus is told by colour and by weight: yellow when focused, white otherwise.
        "border": _HC_YELLOW,
        "border-blurred": "#FFFFFF",
        "footer-background": "#000000",
        "footer-foreground": "#FFFFFF",
        "footer-key-foreground": _HC_YELLOW,
        "footer-description-foreground": "#FFFFFF",
        "input-cursor-background": "#FFFFFF",
        "input-cursor-foreground": "#000000",
        "input-selection-background": "#FFFFFF",
        "input-selection-foreground": "#000000",
        "screen-selection-background": "#FFFFFF",
        "screen-selection-foreground": "#000000",
        "link-color": "#00FFFF",
        "link-color-hover": "#000000",
        "link-background-hover": "#00FFFF",
        "scrollbar": "#FFFFFF",
        "scrollbar-hover": _HC_YELLOW,
        "scrollbar-active": _HC_YELLOW,
        "scrollbar-background": "#000000",
        "scrollbar-background-hover": "#000000",
        "scrollbar-background-active": "#000000",
        "scrollbar-corner-color": "#000000",
    },
)

_SEMANTIC = ("primary", "secondary", "accent", "warning", "error", "success")

LOWBW = Theme(
    name="lowbw",
    # ansi=True makes Textual generate ANSI-only variables (no computed shades) and, while the
    # theme is active, emit the colours as 16-colour SGR codes (see LOWBW_NOTES).
    ansi=True,
    # Cyan and yellow rather than blue and magenta: ansi_blue is barely legible on the black
    # background most terminals use.
    primary="ansi_cyan",
    secondary="ansi_blue",
    accent="ansi_yellow",
    warning="ansi_yellow",
    error="ansi_red",
    success="ansi_green",
    # The terminal's own colours: right on light and dark terminals alike, and "default" costs
    # nothing to send (no SGR code at all once the terminal is reset).
    foreground="ansi_default",
    background="ansi_default",
    surface="ansi_default",
    panel="ansi_default",
    boost="ansi_default",
    dark=True,
    variables={
        # Textual's ANSI generator omits these two, yet Screen's DEFAULT_CSS needs them (the
        # built-in ansi-* themes set them too): without them the stylesheet fails to parse.
        "ansi-background": "ansi_default",
        "ansi-foreground": "ansi_default",
        # Textual's ANSI defaults use "ansi_default 50%" for muted text, but in native ANSI
        # mode the alpha is dropped, so muted text would look exactly like normal text.
        # "Bright black" is the 16-colour way of saying grey.
        "text-muted": "ansi_bright_black",
        "text-disabled": "ansi_bright_black",
        "foreground-muted": "ansi_bright_black",
        # "$error-muted" is "ansi_red 50%" and the alpha is dropped, so it shows as full red:
        # a `color: $error; background: $error-muted` badge would be red on red. Muted
        # backgrounds become the terminal's own instead.
        **{f"{name}-muted": "ansi_default" for name in _SEMANTIC},
        "block-cursor-foreground": "ansi_black",
        "block-cursor-background": "ansi_cyan",
        "block-cursor-text-style": "bold",
        "block-cursor-blurred-foreground": "ansi_default",
        "block-cursor-blurred-background": "ansi_bright_black",
        "border": "ansi_cyan",
        "border-blurred": "ansi_bright_black",
        "footer-key-foreground": "ansi_cyan",
        "input-cursor-background": "ansi_default",
        "input-cursor-foreground": "ansi_default",
        "input-cursor-text-style": "reverse",
        "input-selection-background": "ansi_cyan",
        "input-selection-foreground": "ansi_black",
        "screen-selection-background": "ansi_cyan",
        "screen-selection-foreground": "ansi_black",
    },
)

THEMES: dict[str, Theme] = {theme.name: theme for theme in (DARK, LIGHT, HIGH_CONTRAST, LOWBW)}
"""User-facing name (the ``theme`` setting of config.toml) -> Theme. Keys == Theme.name."""

# The config module validates `theme = ...` without importing Textual, so it keeps its own list;
# this assert (and a test) keeps the two from drifting apart.
assert tuple(THEMES) == THEME_NAMES, (tuple(THEMES), THEME_NAMES)

LOWBW_NOTES = """\
lowbw and App.ansi_color (Textual 8.2.8):
- Leave App.ansi_color at its default, None. Then App.native_ansi_color follows the current
  theme's `ansi` flag: switching to lowbw disables Textual's ANSIToTruecolor line filter and the
  16 colours go out as short SGR codes (e.g. ESC[36m), switching back re-enables it.
- Setting App.ansi_color = True would force native ANSI for every theme (ANSI colours inside
  Rich renderables would then follow the terminal palette in dark/light too); setting it to
  False would make lowbw send truecolor (ESC[38;2;r;g;bm) again, defeating its purpose.
- In native ANSI mode Textual drops the alpha of ANSI colours: `$error 30%` as a background
  is full red, `ansi_default 50%` is plain default. Do not rely on alpha for meaning in lowbw.
- Hex colours written directly in .tcss (not through theme variables) still go out as
  truecolor in lowbw; use `$variables` so the 16-colour theme stays 16-colour.
- A 16-colour terminal can also be forced for every theme with TEXTUAL_COLOR_SYSTEM=standard
  (Rich then maps truecolor to the nearest of 16 colours); lowbw chooses those colours instead.
"""


class _ThemeRegistry(Protocol):
    # What register_themes needs from a Textual App; keeps this module easy to test.
    def register_theme(self, theme: Theme) -> None: ...


def register_themes(app: _ThemeRegistry) -> None:
    """Register all four themes with ``app`` (call in ``App.__init__``, before setting .theme)."""
    for theme in THEMES.values():
        app.register_theme(theme)


def resolve_theme(name: str) -> str:
    """The Textual theme name for a user-facing one; ValueError lists the valid names."""
    theme = THEMES.get(name)
    if theme is None:
        raise ValueError(f"unknown theme {name!r}; expected one of: {', '.join(THEMES)}")
    return theme.name


__all__ = [
    "DARK",
    "HIGH_CONTRAST",
    "LIGHT",
    "LOWBW",
    "LOWBW_NOTES",
    "THEMES",
    "register_themes",
    "resolve_theme",
]

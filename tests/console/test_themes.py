"""themes: every theme registers, parses with Textual's own widget CSS and switches at runtime;
high-contrast really is high contrast; lowbw really sends only 16-colour codes."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console
from textual.app import App, ComposeResult
from textual.color import Color
from textual.filter import ANSIToTruecolor
from textual.theme import BUILTIN_THEMES
from textual.widgets import Footer, Input, Label, OptionList

from console.config import THEME_NAMES
from themes import HIGH_CONTRAST, LOWBW, THEMES, register_themes, resolve_theme


class ThemedApp(App[None]):
    """A tiny app using the widgets and theme variables the console relies on."""

    CSS = """
    .muted { color: $text-muted; }
    .warning { color: $text-warning; }
    .breach { color: $error; background: $error-muted; }
    OptionList { height: 6; }
    """

    def __init__(self, theme: str) -> None:
        super().__init__()
        register_themes(self)
        self.theme = resolve_theme(theme)

    def compose(self) -> ComposeResult:
        yield OptionList(*[f"@customer{n}: where is my parcel?" for n in range(10)])
        yield Label("3 open", classes="muted")
        yield Label("00:09", classes="warning")
        yield Label("-00:12", classes="breach")
        yield Input(placeholder="Reply")
        yield Footer()


def full_repaint(app: App[None]) -> str:
    """The bytes a full-screen repaint sends to a truecolor terminal."""
    console = Console(color_system="truecolor", force_terminal=True, file=io.StringIO())
    return app.screen._compositor.render_full_update().render_segments(console)


def contrast(a: Color, b: Color) -> float:
    """WCAG 2 contrast ratio."""

    def luminance(color: Color) -> float:
        def channel(value: int) -> float:
            c = value / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = color.rgb
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_names_match_config_and_theme_names() -> None:
    assert tuple(THEMES) == THEME_NAMES
    for name, theme in THEMES.items():
        assert theme.name == name
        assert resolve_theme(name) == name
        # Ours must not shadow (or be shadowed by) a Textual built-in.
        assert name not in BUILTIN_THEMES


def test_resolve_theme_lists_valid_names() -> None:
    with pytest.raises(ValueError, match=r"'solarized'.*dark, light, high-contrast, lowbw"):
        resolve_theme("solarized")


@pytest.mark.parametrize("name", THEME_NAMES)
async def test_each_theme_registers_and_renders(name: str) -> None:
    app = ThemedApp(name)
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        assert app.theme == name
        assert app.current_theme is THEMES[name]
        assert app.has_class(f"-theme-{name}")
        assert full_repaint(app)  # the stylesheet parsed and the screen rendered


async def test_themes_switch_at_runtime() -> None:
    app = ThemedApp("dark")
    async with app.run_test(size=(80, 20)) as pilot:
        for name in [*THEME_NAMES, "dark"]:
            app.theme = name
            await pilot.pause()
            assert app.current_theme.name == name
            # The ANSI flag follows the theme when App.ansi_color is left at None.
            assert app.native_ansi_color is (name == "lowbw")
            truecolor_filters = [f for f in app._filters if isinstance(f, ANSIToTruecolor)]
            assert [f.enabled for f in truecolor_filters] == [name != "lowbw"]
            label = app.query_one(".breach", Label)
            assert label.styles.color == Color.parse(app.theme_variables["error"])


async def test_lowbw_sends_no_truecolor_and_fewer_bytes() -> None:
    sizes: dict[str, int] = {}
    for name in ("dark", "lowbw"):
        app = ThemedApp(name)
        async with app.run_test(size=(80, 20)) as pilot:
            await pilot.pause()
            output = full_repaint(app)
            sizes[name] = len(output.encode())
            if name == "lowbw":
                assert not re.search(r"[34]8;[25];", output), "lowbw emitted 256/truecolor"
                # Error text on the terminal's background, not red on red.
                assert "\x1b[31;41m" not in output
    assert sizes["lowbw"] < sizes["dark"] * 0.85, sizes


def test_lowbw_uses_only_ansi_colours() -> None:
    variables = LOWBW.to_color_system().generate() | LOWBW.variables
    colours = {
        name: value
        for name, value in variables.items()
        if value.startswith(("#", "rgb", "ansi_")) or value == "transparent"
    }
    for name, value in colours.items():
        # "transparent" (surface/panel) shows the terminal's background: no colour sent.
        assert value == "transparent" or value.startswith("ansi_"), (name, value)
    # Native ANSI drops alpha, so "ansi_default 50%" would not look muted at all.
    for name in ("text-muted", "text-disabled", "foreground-muted"):
        assert variables[name] == "ansi_bright_black"


def _resolve(value: str, background: Color) -> Color:
    """A theme variable as it lands on screen over ``background`` (handles "auto N%")."""
    if value.startswith("auto"):
        alpha = float(value.split()[1].rstrip("%")) / 100 if " " in value else 1.0
        return background + background.get_contrast_text(alpha)
    return background + Color.parse(value)


@pytest.mark.parametrize(
    ("foreground", "background"),
    [
        ("text", "background"),
        ("text-muted", "background"),
        ("text-disabled", "background"),
        ("text-muted", "panel"),
        ("foreground", "background"),
        ("foreground-muted", "background"),
        ("text-primary", "background"),
        ("text-accent", "background"),
        ("text-warning", "background"),
        ("text-error", "background"),
        ("text-success", "background"),
        ("accent", "background"),
        ("block-cursor-foreground", "block-cursor-background"),
        ("block-cursor-blurred-foreground", "block-cursor-blurred-background"),
        ("footer-key-foreground", "footer-background"),
        ("footer-description-foreground", "footer-background"),
        ("input-selection-foreground", "input-selection-background"),
        ("link-color", "background"),
        ("text", "primary"),  # e.g. a primary button's label: "auto" picks black on yellow
    ],
)
def test_high_contrast_meets_wcag_aaa(foreground: str, background: str) -> None:
    variables = HIGH_CONTRAST.to_color_system().generate() | HIGH_CONTRAST.variables
    black = Color.parse(variables["background"])
    back = _resolve(variables[background], black)
    fore = _resolve(variables[foreground], back)
    ratio = contrast(fore, back)
    assert ratio >= 7.0, f"{foreground} on {background}: {fore.hex} on {back.hex} = {ratio:.1f}"


def test_high_contrast_is_white_on_black_with_yellow_accent() -> None:
    assert Color.parse(HIGH_CONTRAST.background or "") == Color(0, 0, 0)
    assert Color.parse(HIGH_CONTRAST.foreground or "") == Color(255, 255, 255)
    assert Color.parse(HIGH_CONTRAST.accent or "") == Color(255, 255, 0)


async def test_high_contrast_has_no_dim_text_on_screen() -> None:
    app = ThemedApp("high-contrast")
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        muted = app.query_one(".muted", Label)
        assert muted.styles.color.a == 1.0 or muted.styles.auto_color
        rendered = muted.render_line(0)
        for segment in rendered:
            if segment.text.strip() and segment.style is not None:
                assert not segment.style.dim
                assert segment.style.color is not None
                assert segment.style.color.get_truecolor() == (255, 255, 255)

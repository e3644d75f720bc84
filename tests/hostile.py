"""Hostile inputs: text from the internet that tries to steer the terminal or the app.

Each entry is (name, text). The names say what the input attacks; tests put every entry through
every place outside text appears and check that nothing of it reaches the terminal as control.
"""

from __future__ import annotations

ESC = "\x1b"
BEL = "\x07"
ST = ESC + "\\"

HOSTILE_INPUTS: list[tuple[str, str]] = [
    ("osc52-clipboard", f"copy this {ESC}]52;c;cm0gLXJmIH4vCg=={BEL} please"),
    ("osc52-st", f"{ESC}]52;p;ZXZpbA=={ST}"),
    ("osc0-title", f"{ESC}]0;You have been pwned{BEL}hello"),
    ("osc8-link", f"{ESC}]8;;https://evil.example{ST}click{ESC}]8;;{ST}"),
    ("csi-clear", f"before{ESC}[2J{ESC}[Hafter"),
    ("csi-cursor", f"{ESC}[10;10H{ESC}[1A{ESC}[5Cmoved"),
    ("csi-sgr", f"{ESC}[31;1mred bold{ESC}[0m"),
    ("dsr-query", f"status? {ESC}[6n"),
    ("da-query", f"{ESC}[c{ESC}[>c{ESC}[=c"),
    ("decrqm", f"{ESC}[?2026$p"),
    ("bracketed-paste", f"{ESC}[200~rm -rf /{ESC}[201~"),
    ("dcs", f"{ESC}P1$qm{ST}"),
    ("apc", f"{ESC}_Gf=100;AAAA{ST}"),
    ("pm-sos", f"{ESC}^privacy{ST}{ESC}Xstring{ST}"),
    ("c1-csi", "\x9b31mc1 red\x9b0m"),
    ("c1-osc", "\x9d0;title\x9c"),
    ("c0-controls", "a\x00b\x01c\x02d\x03e\x04f\x05g\x06h\x07i\x08j\x0bk\x0cl\x0em\x0fn"),
    ("del-and-c1", "x\x7fy\x80z\x85w\x8dv\x9fu"),
    ("lone-esc", f"trailing {ESC}"),
    ("cr-overwrite", "innocent text\rEVIL"),
    ("markup-close", "[/]"),
    ("markup-bold-close", "[/bold] text [/italic]"),
    ("markup-click", "[@click=app.quit]win a prize[/]"),
    ("markup-click-screen", "[@click=screen.action_resolve]x[/]"),
    ("markup-link", "[link=https://evil.example]your bank[/link]"),
    ("markup-style", "[bold red on white blink]alarm[/]"),
    ("markup-variable", "[$error]$accent[/] $primary"),
    ("markup-escape-trick", "\\[not escaped] \\\\[bold]x[/bold]"),
    ("rich-emoji-code", ":warning: :red_circle:"),
    ("bidi-rlo", "invoice \u202eexe.txt\u202c done"),
    ("bidi-isolates", "\u2066abc\u2069 \u2067def\u2069 \u2068ghi\u2069"),
    ("bidi-marks", "a\u200eb\u200fc\u061cd"),
    ("zero-width", "pay\u200bpal\u200c.com\u2060\ufeff"),
    ("tag-characters", "hi\U000e0049\U000e0047\U000e004e\U000e004f\U000e0052\U000e0045"),
    ("combining-flood", "Z" + "\u0336\u0335\u0334" * 300 + "algo"),
    ("combining-on-nothing", "\u0301" * 50),
    ("emoji-zwj", "👨\u200d👩\u200d👧\u200d👦 🏳️\u200d🌈 👍🏽"),
    ("rtl-arabic", "مرحبا بكم في خدمة العملاء"),
    ("rtl-hebrew", "שלום עולם"),
    ("cjk", "你好，我的订单还没有到。请帮忙查询一下。ありがとう"),
    ("wide-and-narrow", "ｆｕｌｌｗｉｄｔｈ ＡＢＣ"),
    ("long-word", "a" * 5000),
    ("huge-post", ("lorem ipsum " * 17000)[:200_000]),
    ("newline-flood", "\n" * 2000 + "end"),
    ("tabs", "col1\tcol2\t\t\tcol3"),
    ("line-separators", "one\u2028two\u2029three\x85four"),
    ("lone-surrogate", "broken \ud800 pair \udfff"),
    ("replacement", "\ufffd\ufffe\uffff"),
    ("private-use", "\ue000\uf8ff\U000f0000"),
    ("nul-middle", "before\x00after"),
    ("format-string", "{customer.first_name} {order_id} {0} %s %(x)s {{}}"),
    ("html", "<script>alert(1)</script>&amp;&lt;b&gt;"),
]


def _variants(name: str, text: str) -> list[tuple[str, str]]:
    """Each attack as it arrives in real posts: inside a sentence, repeated, cut short (a
    truncated escape sequence must not swallow or leak the rest), and wrapped in markup."""
    short = text[:2000]
    return [
        (f"{name}/in-sentence", f"Bonjour @Fibrelle, {short} merci d'avance ! 🙏"),
        (f"{name}/repeated", short[:600] * 3),
        (f"{name}/cut", short[: max(1, len(short) // 2)] + " suite du message"),
        (f"{name}/in-markup", f"[bold]{short[:300]}[/bold] [@click=app.bell]{name}[/]"),
    ]


# The base inputs plus their variants: the corpus issue 6 asks for (at least 200 inputs).
HOSTILE_CORPUS: list[tuple[str, str]] = HOSTILE_INPUTS + [
    variant
    for name, text in HOSTILE_INPUTS
    if len(text) < 10_000  # the huge posts are in the base set; four more copies add nothing
    for variant in _variants(name, text)
]

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from console.links import find_links


def test_http_and_https_open_other_schemes_do_not() -> None:
    links = find_links(
        "voir https://fibrelle.fr/aide, http://status.fibrelle.fr) et javascript:alert(1) "
        "ou file:///etc/passwd ou ssh://host ou data:text/html;base64,PHNjcmlwdD4="
    )
    assert [(link.url, link.openable) for link in links] == [
        ("https://fibrelle.fr/aide", True),
        ("http://status.fibrelle.fr", True),
        ("javascript:alert(1)", False),
        ("file:///etc/passwd", False),
        ("ssh://host", False),
        ("data:text/html;base64,PHNjcmlwdD4=", False),
    ]


def test_userinfo_trick_is_refused() -> None:
    [link] = find_links("https://mabanque.fr@evil.example/login")
    assert not link.openable and "user@" in link.reason


def test_times_and_words_with_colons_are_not_links() -> None:
    assert find_links("rdv à 10:42, note:urgent") == []


def test_escape_sequences_do_not_hide_in_links() -> None:
    [link] = find_links("https://ok.example/\x1b]52;c;ZXZpbA==\x07path")
    assert "\x1b" not in link.url and link.url == "https://ok.example/path"


@given(st.text(max_size=300))
def test_never_raises_and_only_http_opens(text: str) -> None:
    for link in find_links(text):
        assert not link.openable or link.url.lower().startswith(("http://", "https://"))

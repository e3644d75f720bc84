"""Wire fakes for the channel adapters: an httpx.MockTransport that answers from a script and
records every request, so tests assert on what went over the wire."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from console.clock import FrozenClock
from db.models import OutboxItem, OutboxState

NOW = 1_767_225_600  # 2026-01-01T00:00:00Z

Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class Wire:
    """Routes keyed by (method, path); each route is a response, an exception, or a handler.
    A list pops one answer per request (the last one repeats)."""

    routes: dict[tuple[str, str], Any] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def on(self, method: str, path: str, *answers: Any) -> None:
        self.routes[(method, path)] = list(answers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = (request.method, request.url.path)
        if key not in self.routes:
            return httpx.Response(404, json={"error": f"no fake for {key}"})
        answers = self.routes[key]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            return answer(request)
        return answer

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]


def reply(status: int, body: Any = None, headers: dict[str, str] | None = None,
          text: str | None = None) -> httpx.Response:
    if text is not None:
        return httpx.Response(status, text=text, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
async def client(wire: Wire) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(wire)) as c:
        yield c


def outbox(text: str, *, channel: str, attempts: int = 1, key: str = "3f0c9a1e5b7d4c2a",
           item_id: int = 7) -> OutboxItem:
    return OutboxItem(
        id=item_id, mention_id=1, channel=channel, text=text, state=OutboxState.SENDING,
        author="agent", remote_id=None, error=None, idempotency_key=key, attempts=attempts,
        created_at=NOW, updated_at=NOW,
    )

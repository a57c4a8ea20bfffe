"""A bounded asyncio load generator for fault tests: a few workers loop over a mix of
named actions for a given time (or until stopped, or until a request budget is spent),
and every answer is recorded: which action, when it started and ended, its status,
Retry-After, body excerpt, and what the action made of it (a cookie, a token...).

An action is `async def act(worker: int) -> Answer`: it makes one or more requests with
its own httpx client and returns the decisive response (the first that went wrong, or the
last). A request that gets no answer at all (refused, reset, timed out) is recorded with
`status None`, as is an action that raised: a fault test then sees it, never loses it.

    load = Load({"page": view_page, "login": log_in}, workers=4)
    running = asyncio.create_task(load.run(seconds=20))
    ... stop a store, mark(), start it again, mark() ...
    load.stop()
    outcomes = await running
    during = load.within(down_at, up_at)     # started and ended inside the window
"""

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import httpx

BODY_EXCERPT = 2000


@dataclass(frozen=True)
class Answer:
    """What an action hands back: the decisive response and the value it yielded."""

    response: httpx.Response
    value: object = None


Action = Callable[[int], Awaitable[Answer]]


@dataclass(frozen=True)
class Outcome:
    action: str
    worker: int
    started_at: float  # time.monotonic()
    ended_at: float
    status: int | None  # None: no answer (transport error) or the action raised
    retry_after: str | None = None
    content_type: str = ""
    body: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    value: object = None
    error: str = ""  # the transport error or exception, when there was no answer

    @property
    def succeeded(self) -> bool:
        return self.status is not None and self.status < 400

    def describe(self) -> str:
        what = self.error or f"{self.status} {self.body[:200]!r}"
        return f"{self.action} (worker {self.worker}, t={self.started_at:.2f}): {what}"


def _outcome(name: str, worker: int, started: float, answer: Answer) -> Outcome:
    response = answer.response
    return Outcome(
        action=name,
        worker=worker,
        started_at=started,
        ended_at=time.monotonic(),
        status=response.status_code,
        retry_after=response.headers.get("retry-after"),
        content_type=response.headers.get("content-type", ""),
        body=response.text[:BODY_EXCERPT],
        headers=dict(response.headers),
        value=answer.value,
    )


class Load:
    """Workers that each run weighted-random actions back to back (seeded per worker, so a
    run's mix is reproducible) until `seconds` pass, `stop()` is called, or
    `max_requests` actions have run in all."""

    def __init__(
        self,
        actions: Mapping[str, Action],
        *,
        weights: Mapping[str, int] | None = None,
        workers: int = 4,
        max_requests: int = 5000,
        pause_seconds: float = 0.0,
        seed: int = 0,
    ) -> None:
        assert actions, "a load needs at least one action"
        self._names = list(actions)
        self._actions = dict(actions)
        self._weights = [(weights or {}).get(name, 1) for name in self._names]
        self._workers = workers
        self._max_requests = max_requests
        self._pause = pause_seconds
        self._seed = seed
        self._stopping = asyncio.Event()
        self._started = 0
        self.outcomes: list[Outcome] = []

    def stop(self) -> None:
        self._stopping.set()

    async def run(self, seconds: float) -> list[Outcome]:
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(self._work(w, deadline) for w in range(self._workers)))
        return self.outcomes

    async def _work(self, worker: int, deadline: float) -> None:
        choose = random.Random(self._seed * 1000 + worker)  # a test's reproducible mix
        while not self._stopping.is_set() and time.monotonic() < deadline:
            if self._started >= self._max_requests:
                return
            self._started += 1
            [name] = choose.choices(self._names, self._weights)
            self.outcomes.append(await self._one(name, worker))
            if self._pause:
                await asyncio.sleep(self._pause)
            else:
                await asyncio.sleep(0)  # let the other workers and the test's steps run

    async def _one(self, name: str, worker: int) -> Outcome:
        started = time.monotonic()
        try:
            return _outcome(name, worker, started, await self._actions[name](worker))
        except Exception as exc:  # recorded: the fault test fails on it
            ended = time.monotonic()
            error = f"{exc.__class__.__name__}: {exc}"[:BODY_EXCERPT]
            return Outcome(name, worker, started, ended, None, error=error)

    def within(self, start: float, end: float) -> list[Outcome]:
        """The outcomes of actions that started at or after `start` and ended by `end`."""
        return [o for o in self.outcomes if o.started_at >= start and o.ended_at <= end]

    def started_after(self, moment: float) -> list[Outcome]:
        return [o for o in self.outcomes if o.started_at >= moment]

    def ended_before(self, moment: float) -> list[Outcome]:
        return [o for o in self.outcomes if o.ended_at <= moment]


def tally(outcomes: list[Outcome]) -> dict[str, int]:
    """How many of each (action, status): a readable summary for an assertion message."""
    counts = Counter(f"{o.action}:{o.status}" for o in outcomes)
    return dict(sorted(counts.items()))

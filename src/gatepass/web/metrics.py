"""Prometheus metrics: requests by route and status, latency, audit events (routes/metrics.py
serves them at `/metrics`).

The metric objects live in prometheus_client's process-wide registry. With several worker
processes (`gatepass serve --workers N`), `serve` points PROMETHEUS_MULTIPROC_DIR at a
fresh folder before the workers start, each worker writes its values there, and a scrape
of any worker reads them all (prometheus_client's multiprocess mode), so one scrape sees
the whole server rather than whichever worker the connection landed on.

Routes are labelled by their template (`/login/{provider}`), never by the raw path, and
paths no route matched share one label: a scanner cannot grow the label set.
"""

import functools
import os
import time
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # set by `gatepass serve --workers N`
UNMATCHED = "unmatched"
# Any token is a method to HTTP: others share one label, so they cannot grow the set either.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"})

REQUESTS = Counter(
    "gatepass_http_requests",
    "HTTP requests answered, by route template, method and status code.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "gatepass_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
)
AUDIT_EVENTS = Counter(
    "gatepass_audit_events",
    "Audit events recorded by the server (logins, failures, lockouts, revocations...).",
    ["type"],
)


class MetricsMiddleware:
    """Counts and times every HTTP request (the revocation stream's too, by its end)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            record(scope, status, started)


def record(scope: Scope, status: int, started: float) -> None:
    """Count an answer and its time since `started` (time.perf_counter()), under the
    template of the route that matched (scope["route"])."""
    count(getattr(scope.get("route"), "path", None) or UNMATCHED, scope["method"], status, started)


def count(route: str, method: str, status: int, started: float) -> None:
    """`record` for an answer made outside ASGI: its route template given."""
    counter, timer = _children(route, method if method in METHODS else "other", status)
    counter.inc()
    timer.observe(time.perf_counter() - started)


@functools.lru_cache(maxsize=4096)
def _children(route: str, method: str, status: int) -> tuple[Any, Any]:
    """The labelled series of one route, method and status: `labels()` looks them up under
    a lock by a tuple of strings, a tenth of a static answer's time; the set is bounded
    (route templates, methods and statuses), so remembering them is too."""
    return REQUESTS.labels(route, method, str(status)), LATENCY.labels(route)


def exposition() -> bytes:
    """The text format of every metric, of every worker in multiprocess mode."""
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)

"""The resource toolkit (`gatepass.resource`, issue 5's proof), on one live identity server:

    gatepass serve on the "redis" stack (SQLite for the records, Redis for the feed)
      ├─ propagation.py   POST /revoke ─► refused by a verifier in another process (p50/p99)
      ├─ verify_rates.py  TokenVerifier.verify per algorithm, uncached and cached, with and
      │                   without a RevocationSet, beside raw `cryptography` and PyJWT
      └─ endpoint.py      a Starlette endpoint behind GatepassAuth beside the same one open

Every token is a real gatepass access token: from the server's `POST /token`
(propagation, endpoint), or, for the algorithms the server does not sign access tokens
with, from `AccessTokens` over the server's own key ring (verify rates). Every verifier
gets its keys from the running server (discovery, then /jwks.json).

`metrics` flattens the figures the issue sets goals for into records of one shape:
{"name", "value", "unit", "baseline", "baseline_value", "ratio", "goal", "met"}.
"""

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from bench import endpoint, grants, propagation, verify_rates
from bench.environment import Stack
from bench.server import live_server
from bench.tokens import Timing
from gatepass.clock import SystemClock
from gatepass.web.app import build_key_ring

Metric = dict[str, Any]


async def resource_figures(
    stack: Stack,
    workdir: Path,
    *,
    token_timing: Timing,
    endpoint_timing: Timing,
    concurrency: int,
    revocations: int,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    # Every algorithm's key exists before the server starts, so its JWKS has them all.
    ring = build_key_ring(stack.settings, stack.backends, SystemClock())
    await ring.start()
    async with live_server(stack.settings, workdir, "resource") as server:
        settings = replace(stack.settings, issuer=server.url)
        _, authorization = await grants.machine_client(stack)
        progress(f"resource toolkit: revocation propagation, {revocations} revocations")
        spread = await propagation.propagation(
            settings, server, authorization, revocations, workdir
        )
        verify = await verify_rates.verify_rates(settings, ring, server, token_timing, progress)
        progress(f"resource toolkit: Starlette endpoint, open vs protected, {concurrency} tasks")
        async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=10.0) as http:
            token = (await propagation.access_tokens(http, authorization, 1))[0]
        protected = await endpoint.endpoint_rates(
            settings, server.url, token, concurrency, endpoint_timing, workdir
        )
    results = {
        "server": f"gatepass serve, SQLite + Redis, {settings.access_token_alg} access tokens",
        "verify": verify,
        "endpoint": protected,
        "propagation": spread,
    }
    results["metrics"] = metrics(results)
    return results


def _metric(
    name: str,
    value: float | None,
    unit: str,
    baseline: str,
    baseline_value: float | None,
    ratio: float | None,
    goal: str | None = None,
) -> Metric:
    return {
        "name": name,
        "value": value,
        "unit": unit,
        "baseline": baseline,
        "baseline_value": baseline_value,
        "ratio": ratio,
        "goal": goal,
        "met": _met(goal, value, ratio),
    }


def _met(goal: str | None, value: float | None, ratio: float | None) -> bool | None:
    """Whether `goal` ("ratio >= 0.9", "value < 100") holds; None without a goal."""
    if goal is None:
        return None
    subject, operator, threshold = goal.split()
    figure = ratio if subject == "ratio" else value
    if figure is None:
        return False
    return figure >= float(threshold) if operator == ">=" else figure < float(threshold)


def _verify_metrics(verify: dict[str, Any]) -> list[Metric]:
    out = []
    for alg, entry in verify["algorithms"].items():
        cases, ratios = entry["cases"], entry["ratios"]
        rate = {case: figures["verifications_per_second"] for case, figures in cases.items()}
        of_raw = verify_rates.UNCACHED_OF_RAW.get(alg)
        goals = {
            ("uncached", "raw"): None if of_raw is None else f"ratio >= {of_raw:.2f}",
            ("uncached", "pyjwt"): f"ratio >= {verify_rates.UNCACHED_OVER_PYJWT:g}",
            ("cached", "raw"): f"ratio >= {verify_rates.CACHED_OVER_RAW:g}",
        }
        names = {
            "raw": f"cryptography {alg} verify of the same signing input",
            "pyjwt": f"PyJWT decode, {alg} pinned, same key and claim checks",
        }
        for (kind, base), goal in goals.items():
            for case in (kind, f"{kind}_set"):
                out.append(
                    _metric(
                        f"verify_{case}_{alg}_vs_{base}",
                        rate[case],
                        "verifications/s",
                        names[base],
                        rate[base],
                        ratios[f"{case}_over_{base}"],
                        goal,
                    )
                )
    return out


def metrics(results: dict[str, Any]) -> list[Metric]:
    """The figures issue 5 sets goals for, each beside its baseline."""
    out = _verify_metrics(results["verify"])
    ep = results["endpoint"]
    requests, cpu = ep["requests"], ep["server_cpu_ms_per_request"]
    out.append(
        _metric(
            "endpoint_protected_vs_open",
            requests["protected"].ops_per_second,
            "requests/s",
            "the same Starlette endpoint without GatepassAuth",
            requests["open"].ops_per_second,
            ep["protected_over_open"],
            f"ratio >= {ep['goal']:.2f}",
        )
    )
    out.append(
        _metric(
            "endpoint_server_cpu_protected_vs_open",
            cpu["protected"],
            "server CPU ms/request",
            "the same Starlette endpoint without GatepassAuth",
            cpu["open"],
            cpu["protected"] / cpu["open"] if cpu["protected"] and cpu["open"] else None,
        )
    )
    spread = results["propagation"]
    without = spread["remaining_lifetime_seconds"]["median"] * 1000
    for level, goal in (("p50", None), ("p99", "value < 100")):
        value = spread["latency"][f"{level}_ms"]
        out.append(
            _metric(
                f"revocation_propagation_{level}",
                value,
                "ms",
                "no feed: the token's remaining lifetime at revocation (median)",
                without,
                value / without if without else None,
                goal,
            )
        )
    return out

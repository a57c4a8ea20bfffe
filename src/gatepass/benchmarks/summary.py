"""One flat list of results from a run's figures: what `gatepass bench --json` prints.

Each result: {"name", "value", "unit", "baseline", "baseline_value", "ratio", "goal",
"ratio_interval"}. `baseline` names what was measured beside it in the same run; `ratio`
is ours over the baseline with higher meaning better: value / baseline_value for rates,
and the inverse, baseline_value / value, for the units in LOWER_IS_BETTER (latencies,
sizes, round trips). `goal` is the target ratio of issues 5 and 8, or None.
`ratio_interval` is [low, high], about 95%, for a rate measured in interleaved turns
beside its baseline (interval.py), else None. A baseline that could not be measured keeps
its name, says why, and has no value (nor ratio).
"""

from typing import Any

from gatepass.benchmarks import verify_rates
from gatepass.benchmarks.interval import Turns, ratio_interval
from gatepass.benchmarks.workload import Throughput

LOWER_IS_BETTER = frozenset({"ms", "us", "bytes", "round trips"})
REDIS_CHECK_GOAL = 0.80  # session check >= 80% of a raw GET at equal concurrency
RECORD_BYTES = 300  # <= 300 B of Redis per session
TOKEN_GOALS = {"ES256": 1.2, "RS256": 1.0}  # client_credentials vs oidc-provider
STATIC_GOAL = 1.5  # discovery and JWKS vs oidc-provider
LOGIN_GOAL = 0.80  # logins/s >= 80% of what the cores hash
ENDPOINT_GOAL = 0.70  # toolkit-protected endpoint vs the same open
Result = dict[str, Any]


def ratio(value: float | None, baseline: float | None, unit: str) -> float | None:
    """Ours over the baseline, higher is better (inverted for LOWER_IS_BETTER units)."""
    if value is None or baseline is None or value <= 0 or baseline <= 0:
        return None
    return baseline / value if unit in LOWER_IS_BETTER else value / baseline


def result(
    name: str,
    value: float | None,
    unit: str,
    baseline: str,
    baseline_value: float | None,
    goal: float | None = None,
    turns: tuple[Turns, Turns] | None = None,
) -> Result:
    """`turns`: ours and the baseline's (ops, seconds) per interleaved turn, for a rate."""
    figure = ratio(value, baseline_value, unit)
    interval = None if turns is None or figure is None else ratio_interval(*turns)
    return {
        "name": name,
        "value": value,
        "unit": unit,
        "baseline": baseline,
        "baseline_value": baseline_value,
        "ratio": figure,
        "goal": goal,
        "ratio_interval": None if interval is None else list(interval),
    }


def met(entry: Result) -> bool | None:
    """Whether the goal is met; None without a goal or without a ratio to judge."""
    if entry["goal"] is None or entry["ratio"] is None:
        return None
    return bool(entry["ratio"] >= entry["goal"])


def within_noise(entry: Result) -> bool:
    """Whether the goal lies inside the ratio's interval: this run does not decide it."""
    interval, goal = entry["ratio_interval"], entry["goal"]
    return interval is not None and goal is not None and interval[0] < goal <= interval[1]


def _paired(ours: Throughput, theirs: Throughput | None) -> tuple[Turns, Turns] | None:
    return None if theirs is None else (ours.turns, theirs.turns)


def _rate_and_latency(
    name: str, ours: Throughput, baseline: str, theirs: Throughput | None, goal: float | None
) -> list[Result]:
    """ops/s with its goal, then p50 and p99 beside the baseline's."""
    return [
        result(
            name, ours.ops_per_second, "ops/s", baseline, _rate(theirs), goal, _paired(ours, theirs)
        ),
        result(
            f"{name}_p50", ours.p50_ms, "ms", baseline, None if theirs is None else theirs.p50_ms
        ),
        result(
            f"{name}_p99", ours.p99_ms, "ms", baseline, None if theirs is None else theirs.p99_ms
        ),
    ]


def _rate(t: Throughput | None) -> float | None:
    return None if t is None else t.ops_per_second


def _sessions(raw: dict[str, Any]) -> list[Result]:
    out = []
    for backend, levels in raw["session_check"].items():
        if backend == "redis":
            base, baselines, goal = "redis-py GET", raw["redis"]["raw_get"], REDIS_CHECK_GOAL
        else:
            base, baselines, goal = "SQL SELECT of the row", raw["raw_select"][backend], None
        for c, t in levels.items():
            out += _rate_and_latency(f"session_check_{backend}_c{c}", t, base, baselines[c], goal)
    if "redis" in raw:
        memory, trips = raw["redis"]["memory"], raw["redis"]["round_trips"]
        target = f"target (issue 8): {RECORD_BYTES} B"
        out.append(
            result(
                "redis_session_record_bytes",
                memory["session_record_bytes"],
                "bytes",
                target,
                RECORD_BYTES,
                1.0,
            )
        )
        out.append(
            result(  # the goal holds for all a session costs: its record and index entry
                "redis_bytes_per_session_with_index",
                memory["total_bytes_per_session"],
                "bytes",
                target,
                RECORD_BYTES,
                1.0,
            )
        )
        out.append(
            result(
                "redis_round_trips_per_check",
                trips["round_trips_per_check"],
                "round trips",
                "raw GETEX: one round trip",
                1.0,
                1.0,
            )
        )
    return out


def _verify(resource: dict[str, Any]) -> list[Result]:
    out = []
    for alg, entry in resource["verify"]["algorithms"].items():
        cases = entry["cases"]
        raw, pyjwt = cases["raw"], cases["pyjwt"]
        for case in ("uncached", "uncached_set", "cached", "cached_set"):
            figures = cases[case]
            uncached = case.startswith("uncached")
            of_raw = verify_rates.UNCACHED_OF_RAW.get(alg) if uncached else 20.0
            rate = figures["verifications_per_second"]
            name = f"verify_{case}_{alg}"
            crypto = f"cryptography {alg} verify"
            out += [
                result(
                    f"{name}_vs_raw",
                    rate,
                    "ops/s",
                    crypto,
                    raw["verifications_per_second"],
                    of_raw,
                    (figures["turns"], raw["turns"]),
                ),
                result(
                    f"{name}_vs_pyjwt",
                    rate,
                    "ops/s",
                    f"PyJWT decode {alg}",
                    pyjwt["verifications_per_second"],
                    verify_rates.UNCACHED_OVER_PYJWT if uncached else None,
                    (figures["turns"], pyjwt["turns"]),
                ),
                result(f"{name}_p50", figures["p50_us"], "us", crypto, raw["p50_us"]),
                result(f"{name}_p99", figures["p99_us"], "us", crypto, raw["p99_us"]),
            ]
    return out


def _wire(wire: dict[str, Any]) -> list[Result]:
    cookie = f"session cookie header ({wire['cookie_value']} B value)"
    out = []
    for alg, size in wire["access_token_header"].items():
        out.append(result(f"wire_access_token_{alg}", size, "bytes", cookie, wire["cookie_header"]))
    for alg, size in wire["id_token"].items():
        out.append(result(f"wire_id_token_{alg}", size, "bytes", cookie, wire["cookie_header"]))
    return out


def _revocation(raw: dict[str, Any]) -> list[Result]:
    spread = raw.get("resource", {}).get("propagation")
    feed = None if spread is None else spread["latency"]["p50_ms"]
    name = "access token via the revocation feed (p50)"
    if spread is None:
        name += ": baseline unavailable (no redis_url)"
    out = [
        result(f"revocation_session_{backend}", figures["p50_ms"], "ms", name, feed)
        for backend, figures in raw["session_revocation"].items()
    ]
    if spread is not None:
        wait = spread["remaining_lifetime_seconds"]["median"] * 1000
        no_feed = "no feed: the access token's remaining lifetime (median)"
        for level in ("p50", "p99"):
            value = spread["latency"][f"{level}_ms"]
            out.append(result(f"revocation_token_feed_{level}", value, "ms", no_feed, wait))
    return out


def _login(raw: dict[str, Any]) -> list[Result]:
    out = [
        result(
            f"login_{backend}",
            cost["authenticate_ms"],
            "ms",
            "argon2-cffi verify, same parameters",
            cost["raw_verify_ms"],
        )
        for backend, cost in raw["login"].items()
    ]
    if "login_throughput" in raw:
        figures = raw["login_throughput"]
        out.append(
            result(
                "login_throughput",
                figures["logins"].ops_per_second,
                "ops/s",
                f"argon2-cffi verify on {figures['cores']} threads",
                figures["raw_on_cores"].ops_per_second,
                LOGIN_GOAL,
                _paired(figures["logins"], figures["raw_on_cores"]),
            )
        )
    return out


def _peer_name(raw: dict[str, Any]) -> str:
    peer = raw["peer"]
    if peer["unavailable"]:
        return f"oidc-provider: baseline unavailable ({peer['unavailable']})"
    return f"oidc-provider {peer['version']}, one process"


def _token_endpoint(raw: dict[str, Any]) -> list[Result]:
    issuing, peer, out = raw["issuing"], _peer_name(raw), []
    for alg, entry in issuing["algorithms"].items():
        cc = entry["client_credentials"]
        out += _rate_and_latency(
            f"token_client_credentials_{alg}",
            cc["gatepass"],
            peer,
            cc["peer"],
            TOKEN_GOALS.get(alg),
        )
        code = entry.get("authorization_code")
        for c, t in ({} if code is None else code["requests"]).items():
            none = "none: oidc-provider issues codes only after an interactive login"
            out.append(
                result(
                    f"token_authorization_code_{alg}_c{c}", t.ops_per_second, "ops/s", none, None
                )
            )
        refresh = entry.get("refresh_token")
        for c, t in ({} if refresh is None else refresh["requests"]).items():
            base = _rate(code["requests"][c]) if code else None
            out.append(
                result(
                    f"token_refresh_token_{alg}_c{c}",
                    t.ops_per_second,
                    "ops/s",
                    "authorization_code on the same server",
                    base,
                )
            )
    for name, pair in (issuing["static"] or {}).items():
        out += _rate_and_latency(name, pair["gatepass"], peer, pair["peer"], STATIC_GOAL)
    return out


def _scaling(raw: dict[str, Any]) -> list[Result]:
    workers, out = raw["issuing"]["workers"], []
    for count, t in workers.items():
        if count > 1:
            out.append(
                result(
                    f"scaling_client_credentials_workers_{count}",
                    t.ops_per_second,
                    "ops/s",
                    "gatepass serve --workers 1",
                    _rate(workers.get(1)),
                )
            )
    live = raw.get("live_sessions", {})
    first = min(live, default=None)
    for count, figures in live.items():
        base = None if first is None else live[first]
        out.append(
            result(
                f"scaling_session_check_{count}_live",
                figures["check"].ops_per_second,
                "ops/s",
                f"session check at {first} live sessions",
                base and base["check"].ops_per_second,
            )
        )
        out.append(
            result(
                f"scaling_redis_bytes_per_session_{count}_live",
                figures["bytes_per_session"],
                "bytes",
                f"target (issue 8): {RECORD_BYTES} B",
                RECORD_BYTES,
            )
        )
    return out


def _endpoint(resource: dict[str, Any]) -> list[Result]:
    requests = resource["endpoint"]["requests"]
    return [
        result(
            "endpoint_protected_vs_open",
            requests["protected"].ops_per_second,
            "ops/s",
            "the same Starlette endpoint without GatepassAuth",
            requests["open"].ops_per_second,
            ENDPOINT_GOAL,
            _paired(requests["protected"], requests["open"]),
        )
    ]


def _under_login_load(resource: dict[str, Any]) -> list[Result]:
    """p99 of /jwks.json and of an uncached verify while logins saturate the cores, against
    issue 8's bound, and the same quiet; and the logins/s that kept the cores busy."""
    figures = resource.get("under_login_load")
    if figures is None:
        return []
    loaded, bound = figures["loaded"], figures["bound_ms"]
    out = [
        result(
            f"{what}_p99_under_login_load",
            loaded[what]["p99_ms"],
            "ms",
            f"bound (issue 8): {bound:g} ms",
            bound,
            1.0,
        )
        for what in ("jwks", "verify")
    ]
    out += [
        result(
            f"{what}_p99_quiet",
            figures["quiet"][what]["p99_ms"],
            "ms",
            f"bound (issue 8): {bound:g} ms",
            bound,
        )
        for what in ("jwks", "verify")
    ]
    tasks = loaded["login_tasks"]
    out.append(
        result(
            "logins_during_saturation",
            loaded["logins_per_second"],
            "ops/s",
            f"none: the rate of {tasks} login tasks meanwhile",
            None,
        )
    )
    return out


def _tokens(raw: dict[str, Any]) -> list[Result]:
    out = []
    for alg, by_case in raw.get("tokens", {}).items():
        for case in ("issue", "verify"):
            r = by_case[case]
            out.append(
                result(
                    f"access_token_{case}_{alg}",
                    r["gatepass"].ops_per_second,
                    "ops/s",
                    f"PyJWT {'encode' if case == 'issue' else 'decode'} {alg}",
                    r["pyjwt"].ops_per_second,
                    turns=_paired(r["gatepass"], r["pyjwt"]),
                )
            )
    return out


def results(raw: dict[str, Any]) -> list[Result]:
    """Every figure of the run, each beside its baseline."""
    out = _sessions(raw)
    if "resource" in raw:
        out += _verify(raw["resource"])
    out += _wire(raw["wire"]) + _revocation(raw) + _login(raw) + _token_endpoint(raw)
    out += _scaling(raw)
    if "resource" in raw:
        out += _endpoint(raw["resource"]) + _under_login_load(raw["resource"])
    return out + _tokens(raw)

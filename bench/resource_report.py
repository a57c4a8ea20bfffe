"""The resource toolkit's part of the report (bench/resource.py): plain text and Markdown."""

from typing import Any

from bench.verify_rates import BATCH

LABELS = {
    "raw": "raw cryptography verify",
    "pyjwt": "PyJWT decode",
    "uncached": "verify, uncached",
    "uncached_set": "verify, uncached + set",
    "cached": "verify, cached",
    "cached_set": "verify, cached + set",
}


def _goals(results: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    """(alg, case) -> 'raw >= 0.90 met' ... from the metrics (the one place goals live)."""
    found: dict[tuple[str, str], list[str]] = {}
    for m in results["resource"]["metrics"]:
        if not m["name"].startswith("verify_") or m["goal"] is None:
            continue
        case_alg, _, base = m["name"].removeprefix("verify_").rpartition("_vs_")
        case, _, alg = case_alg.rpartition("_")
        threshold = m["goal"].split()[-1]
        found.setdefault((alg, case), []).append(
            f"{base} >= {threshold} {'met' if m['met'] else 'MISSED'}"
        )
    return found


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x" if value < 10 else f"{value:.0f}x"


def _verify_rows(results: dict[str, Any]) -> list[tuple[str, ...]]:
    """(alg, case, verif/s, CPU us, vs raw, vs PyJWT, goals, failed batches) per row."""
    goals, rows = _goals(results), []
    for alg, entry in results["resource"]["verify"]["algorithms"].items():
        for case, figures in entry["cases"].items():
            ratios = entry["ratios"]
            rows.append(
                (
                    alg,
                    LABELS[case],
                    f"{figures['verifications_per_second']:,.0f}",
                    f"{figures['cpu_us_per_verification']:.2f}",
                    _ratio(ratios.get(f"{case}_over_raw")),
                    _ratio(ratios.get(f"{case}_over_pyjwt")),
                    "; ".join(goals.get((alg, case), [])) or "-",
                    str(figures["failed_batches"]),
                )
            )
    return rows


def _endpoint_rows(results: dict[str, Any]) -> list[tuple[str, ...]]:
    ep = results["resource"]["endpoint"]
    rows = []
    for case, t in ep["requests"].items():
        cpu = ep["server_cpu_ms_per_request"][case]
        rows.append(
            (
                case,
                f"{t.ops_per_second:,.0f}",
                f"{t.p50_ms:.2f}",
                f"{t.p99_ms:.2f}",
                "n/a" if cpu is None else f"{cpu:.3f}",
                f"{t.cpu_us_per_op:.0f}",
                f"{t.ops:,}",
                str(t.errors),
            )
        )
    return rows


def _endpoint_summary(results: dict[str, Any]) -> str:
    ep = results["resource"]["endpoint"]
    ratio, goal = ep["protected_over_open"], ep["goal"]
    cpu = ep["cpu_open_over_protected"]
    cpu_text = "n/a" if cpu is None else f"{cpu:.0%}"
    return (
        f"protected/open {ratio:.0%} (goal >= {goal:.0%}: {'met' if ratio >= goal else 'MISSED'}); "
        f"server CPU open/protected {cpu_text}"
    )


def _propagation_lines(results: dict[str, Any]) -> list[str]:
    p = results["resource"]["propagation"]
    lat, ans = p["latency"], p["revoke_answer"]
    met = next(m["met"] for m in results["resource"]["metrics"] if m["name"].endswith("_p99"))
    return [
        f"to refusal: p50 {lat['p50_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms, max "
        f"{lat['max_ms']:.1f} ms (goal p99 < 100 ms: {'met' if met else 'MISSED'}); refused "
        f"{p['refused']} of {p['revocations']}, errors {p['errors']}",
        f"the /revoke answer: p50 {ans['p50_ms']:.1f} ms, p99 {ans['p99_ms']:.1f} ms; the verifier "
        f"refused before the answer arrived {p['refused_before_answer']} times of {p['refused']}",
        "without a feed: accepted until its exp, a median "
        f"{p['remaining_lifetime_seconds']['median']:.0f} s after the revocation here (fresh "
        f"tokens; access tokens live {p['access_token_ttl_seconds']} s, so a token revoked at a "
        f"random moment of its life would have {p['access_token_ttl_seconds'] / 2:.0f} s left "
        "on average)",
    ]


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]], left: int) -> list[str]:
    """Columns as wide as their widest cell; the first `left` aligned left."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "  " + " ".join(
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return [line(header), *(line(r) for r in rows)]


VERIFY_HEADER = ("alg", "case", "verif/s", "CPU us", "vs raw", "vs PyJWT", "goals", "errors")
ENDPOINT_HEADER = (
    "endpoint", "req/s", "p50 ms", "p99 ms", "server CPU ms", "client CPU us", "requests",
    "errors",
)  # fmt: skip


def render(results: dict[str, Any]) -> list[str]:
    if "resource" not in results:
        return []
    r = results["resource"]
    verify, ep, p = r["verify"], r["endpoint"], r["propagation"]
    return [
        "",
        f"Resource toolkit (gatepass.resource) on a live server: {r['server']}",
        f"TokenVerifier.verify, one task, {BATCH} distinct tokens per call, keys from the "
        f"server's JWKS ({results['token_seconds_per_case']:g} s per case)",
        *_table(VERIFY_HEADER, _verify_rows(results), left=2),
        "  uncached: each token new to the verifier (full check); cached: the same tokens "
        "again; + set:",
        "  with a RevocationSet kept by a live RedisRevocationFeed, holding "
        f"{verify['revocations_held']} revocations. Ratios:",
        f"  medians over {results['slices']} turns of back-to-back rates. errors: failed calls "
        f"(of {BATCH}).",
        "",
        f"Starlette endpoint, GET /orders, open vs behind GatepassAuth (cached token), "
        f"{ep['concurrency']} connections",
        *_table(ENDPOINT_HEADER, _endpoint_rows(results), left=1),
        f"  {_endpoint_summary(results)}",
        f"  server: {ep['server']}",
        f"  client: {ep['client']}",
        "",
        f"Revocation propagation: POST /revoke to refusal by a verifier in another process, "
        f"{p['revocations']} one at a time",
        *(f"  {line}" for line in _propagation_lines(results)),
        f"  verifier: {p['verifier']}",
    ]


def _markdown_table(header: tuple[str, ...], rows: list[tuple[str, ...]], left: int) -> list[str]:
    """Numbers aligned right; the first `left` columns and the goals on the left."""
    align = ["---" if i < left or name == "goals" else "--:" for i, name in enumerate(header)]
    return [
        f"| {' | '.join(header)} |",
        f"|{'|'.join(align)}|",
        *(f"| {' | '.join(row)} |" for row in rows),
    ]


def markdown(results: dict[str, Any]) -> list[str]:
    if "resource" not in results:
        return []
    ep, p = results["resource"]["endpoint"], results["resource"]["propagation"]
    return [
        "",
        f"TokenVerifier.verify per algorithm ({BATCH} distinct tokens per call, "
        f"{results['token_seconds_per_case']:g} s per case):",
        "",
        *_markdown_table(VERIFY_HEADER, _verify_rows(results), left=2),
        "",
        f"Starlette endpoint, {ep['concurrency']} connections: {_endpoint_summary(results)}.",
        "",
        *_markdown_table(ENDPOINT_HEADER, _endpoint_rows(results), left=1),
        "",
        f"Revocation propagation, {p['revocations']} revocations one at a time:",
        "",
        *(f"- {line}" for line in _propagation_lines(results)),
    ]

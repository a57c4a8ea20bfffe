"""The report's PNG charts, drawn with matplotlib (Agg: no display) when it is installed.

matplotlib is optional (`pip install 'gatepass[bench]'`): `draw` answers None without it,
and the report then has its tables only and says so.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from gatepass.benchmarks.summary import Result, met

Chart = tuple[str, str]  # (file name, caption)


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _by_name(results: list[Result]) -> dict[str, Result]:
    return {r["name"]: r for r in results}


def _ratios(plt: Any, results: list[Result], path: Path) -> bool:
    """Every result with a goal: its ratio (and interval) beside the goal, log scale."""
    rows = [r for r in results if r["goal"] is not None and r["ratio"] is not None]
    if not rows:
        return False
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(rows) + 1.2))
    names = [r["name"] for r in rows]
    colors = ["tab:green" if met(r) else "tab:red" for r in rows]
    ax.barh(names, [r["ratio"] for r in rows], color=colors)
    spread = [r for r in rows if r["ratio_interval"] is not None]
    if spread:  # the interval's ends as distances from the bar's end, never negative (a
        # bootstrap interval need not hold the ratio of all turns)
        ratios = [r["ratio"] for r in spread]
        lows, highs = zip(*(r["ratio_interval"] for r in spread), strict=True)
        errors = [
            [max(0.0, x - low) for x, low in zip(ratios, lows, strict=True)],
            [max(0.0, high - x) for x, high in zip(ratios, highs, strict=True)],
        ]
        y = [r["name"] for r in spread]
        ax.errorbar(ratios, y, xerr=errors, fmt="none", ecolor="black", capsize=2)
    ax.scatter([r["goal"] for r in rows], names, marker="|", s=200, color="black", label="goal")
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel("ratio: ours / baseline, higher is better (log scale)")
    ax.legend(loc="lower right")
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def _request_auth(plt: Any, results: list[Result], path: Path) -> bool:
    """What authenticating one request costs: session checks beside token verifies."""
    rows = [
        (r["name"].removesuffix("_vs_raw"), r["value"])
        for r in results
        if r["unit"] == "ops/s"
        and (
            (r["name"].startswith("session_check_") and "_c1" not in r["name"])
            or (r["name"].startswith("verify_") and r["name"].endswith("_vs_raw"))
        )
        and r["value"]
    ]
    baselines = {
        r["baseline"]: r["baseline_value"]
        for r in results
        if r["name"].startswith(("session_check_", "verify_"))
        and r["unit"] == "ops/s"
        and r["baseline_value"]
    }
    rows += [(f"baseline: {name}", value) for name, value in baselines.items()]
    if not rows:
        return False
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(rows) + 1.2))
    ax.barh([n for n, _ in rows], [v for _, v in rows], color="tab:blue")
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel("checks per second (log scale)")
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def _peers(plt: Any, results: list[Result], path: Path) -> bool:
    """gatepass beside oidc-provider: client_credentials per algorithm, discovery, JWKS."""
    names = [*(f"token_client_credentials_{a}" for a in ("RS256", "ES256", "EdDSA")), "discovery"]
    names.append("jwks")
    found = _by_name(results)
    rows = [found[n] for n in names if n in found]
    if not rows:
        return False
    fig, ax = plt.subplots(figsize=(8, 4))
    xs = range(len(rows))
    ax.bar([x - 0.2 for x in xs], [r["value"] or 0 for r in rows], 0.4, label="gatepass")
    ax.bar(
        [x + 0.2 for x in xs], [r["baseline_value"] or 0 for r in rows], 0.4, label="oidc-provider"
    )
    ax.set_xticks(list(xs), [r["name"].removeprefix("token_") for r in rows], fontsize=7)
    ax.set_ylabel("requests per second")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def _scaling(plt: Any, raw: dict[str, Any], path: Path) -> bool:
    """Session check rate and Redis bytes per session against live sessions."""
    live = raw.get("live_sessions") or {}
    if not live:
        return False
    counts = sorted(live)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(counts, [live[c]["check"].ops_per_second for c in counts], "o-", label="checks/s")
    ax.set_xscale("log")
    ax.set_xlabel("live sessions in Redis")
    ax.set_ylabel("session checks per second")
    twin = ax.twinx()
    twin.plot(counts, [live[c]["bytes_per_session"] for c in counts], "s--", color="tab:orange")
    twin.set_ylabel("Redis bytes per session", color="tab:orange")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def draw(raw: dict[str, Any], results: list[Result], out: Path) -> list[Chart] | None:
    """The charts written into `out`; None when matplotlib is not installed."""
    if not available():
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    charts: list[tuple[str, str, Callable[[Path], bool]]] = [
        ("ratios.png", "Every goal: ours over the baseline, beside the goal",
         lambda path: _ratios(plt, results, path)),
        ("request_auth.png", "Authenticating a request: session checks and token verifies",
         lambda path: _request_auth(plt, results, path)),
        ("peers.png", "Token endpoint, discovery, JWKS: gatepass beside oidc-provider",
         lambda path: _peers(plt, results, path)),
        ("scaling.png", "Live sessions in Redis: check rate and bytes per session",
         lambda path: _scaling(plt, raw, path)),
    ]  # fmt: skip
    return [(name, caption) for name, caption, chart in charts if chart(out / name)]

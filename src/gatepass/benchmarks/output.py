"""What `gatepass bench` prints and writes: one JSON object, a text table, report.md."""

import json
import math
from pathlib import Path
from typing import Any

from gatepass.benchmarks import charts
from gatepass.benchmarks.summary import LOWER_IS_BETTER, Result, met, within_noise
from gatepass.benchmarks.workload import Throughput

SECTIONS = (  # (name prefix, heading): the order of the report
    ("session_check_", "Request authentication: session check beside the raw read"),
    ("redis_", "Redis per session and per check"),
    ("verify_", "Request authentication: access-token verify (gatepass.resource)"),
    ("endpoint_", "A toolkit-protected endpoint"),
    ("wire_", "On the wire: access token and id token beside the session cookie"),
    ("revocation_", "Revocation: from revoke to refusal"),
    ("login", "Issuing: login (argon2id, the configured parameters)"),
    ("token_", "Issuing: the token endpoint"),
    ("discovery", "Static documents beside oidc-provider"),
    ("jwks", "Static documents beside oidc-provider"),
    ("scaling_", "Scaling: processes and live sessions"),
    ("access_token_", "AccessTokens issue and verify beside PyJWT (full mode)"),
)
NOTE = (
    "ratio = ours / baseline, higher is better; for latencies, sizes and round trips "
    "(units ms, us, bytes, round trips) the inverse, baseline / ours. Absolute figures "
    "move with whatever else the machine runs; the ratios of one run are the headline. "
    "(low-high) after a ratio: its interval of about 95% over the run's interleaved turns; "
    "a goal inside it is within the run's noise, and another run may decide it either way."
)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def document(raw: dict[str, Any], results: list[Result]) -> dict[str, Any]:
    """The --json object: the machine, then every result (NaN becomes null)."""
    machine = {**raw["machine"], "backends": raw["backends"], "versions": raw["versions"]}
    machine["deployment"] = raw.get("deployment")  # the stack of the issuing figures
    machine["scratch"] = raw["scratch"]
    machine["peer"] = {k: v for k, v in raw["peer"].items() if k != "directory"}
    return {
        "machine": machine,
        "results": [{k: _clean(v) for k, v in r.items()} for r in results],
    }


def to_json(raw: dict[str, Any], results: list[Result]) -> str:
    return json.dumps(document(raw, results), default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, Throughput):
        return value.as_dict()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(type(value).__name__)


def _number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _times(r: float) -> str:
    return f"{r:.2f}" if r < 100 else f"{r:,.0f}"


def _ratio(entry: Result) -> str:
    r, interval = entry["ratio"], entry["ratio_interval"]
    if r is None:
        return "-"
    spread = "" if interval is None else f" ({_times(interval[0])}-{_times(interval[1])})"
    return f"{_times(r)}x{spread}"


def _verdict(entry: Result) -> str:
    verdict = met(entry)
    if verdict is None:
        return "" if entry["goal"] is None else f">= {entry['goal']:g}x: not measured"
    noise = ", within noise" if within_noise(entry) else ""
    return f">= {entry['goal']:g}x {'met' if verdict else 'MISSED'}{noise}"


def _grouped(results: list[Result]) -> list[tuple[str, list[Result]]]:
    groups: dict[str, list[Result]] = {}
    for entry in results:
        heading = next(
            (h for prefix, h in SECTIONS if entry["name"].startswith(prefix)), "Other figures"
        )
        groups.setdefault(heading, []).append(entry)
    return list(groups.items())


def _row(entry: Result) -> tuple[str, ...]:
    return (
        entry["name"],
        _number(entry["value"]),
        entry["unit"],
        entry["baseline"],
        _number(entry["baseline_value"]),
        _ratio(entry),
        _verdict(entry),
    )


HEADER = ("name", "value", "unit", "baseline", "baseline value", "ratio", "goal")


def _deployment(raw: dict[str, Any]) -> str:
    stores = {"redis": "the SQL database and Redis", "postgres": "PostgreSQL", "sqlite": "SQLite"}
    name = raw.get("deployment")
    return f"server figures on {stores.get(name, name)}" if name else "no server figures"


def text(raw: dict[str, Any], results: list[Result]) -> str:
    m = raw["machine"]
    lines = [
        f"gatepass bench ({m['mode']}, {m.get('seconds')} s): {m['cpus']} CPUs, load "
        f"{m['load_average']}, backends {', '.join(raw['backends'])}; {_deployment(raw)}",
        NOTE,
    ]
    for heading, entries in _grouped(results):
        rows = [_row(e) for e in entries]
        widths = [min(60, max(len(r[i]) for r in [HEADER, *rows])) for i in range(len(HEADER))]
        lines += ["", heading]
        for cells in [HEADER, *rows]:
            lines.append(
                "  "
                + " ".join(
                    c[:w].ljust(w) if i in (0, 2, 3, 6) else c.rjust(w)
                    for i, (c, w) in enumerate(zip(cells, widths, strict=True))
                ).rstrip()
            )
    return "\n".join(lines)


def _markdown_tables(results: list[Result]) -> list[str]:
    lines = []
    for heading, entries in _grouped(results):
        lines += [
            "",
            f"## {heading}",
            "",
            f"| {' | '.join(HEADER)} |",
            "|---|--:|---|---|--:|--:|---|",
        ]
        lines += [f"| {' | '.join(_row(e))} |" for e in entries]
    return lines


def _goals(results: list[Result]) -> list[str]:
    judged = [e for e in results if met(e) is not None]
    missed = [e["name"] for e in judged if not met(e)]
    line = f"Goals met: {len(judged) - len(missed)} of {len(judged)}."
    lines = [line + (f" Missed: {', '.join(missed)}." if missed else "")]
    undecided = [e["name"] for e in judged if within_noise(e)]
    if undecided:
        lines += [
            "",
            f"Within this run's noise (the goal inside the ratio's interval): "
            f"{', '.join(undecided)}. Another run of the same code on this machine may "
            "decide these either way.",
        ]
    return lines


def write_report(out: Path, raw: dict[str, Any], results: list[Result]) -> list[Path]:
    """report.md and the PNG charts into `out` (created); the files written."""
    out.mkdir(parents=True, exist_ok=True)
    drawn = charts.draw(raw, results, out)
    m = raw["machine"]
    lines = [
        "# gatepass bench",
        "",
        f"{m['mode']} mode, {m.get('seconds')} s; {m['cpus']} CPUs, load average "
        f"{m['load_average']} at the start; "
        f"{m['platform']}; Python {m['python']}; gatepass {m['gatepass']}; backends "
        f"{', '.join(raw['backends'])}; {_versions(raw)}; {_deployment(raw)}.",
        "",
        NOTE,
        f"Units where lower is better: {', '.join(sorted(LOWER_IS_BETTER))}.",
        "",
        *_goals(results),
    ]
    peer = raw["peer"]
    if peer["unavailable"]:
        lines += ["", f"oidc-provider: baseline unavailable ({peer['unavailable']})."]
    if drawn is None:
        lines += ["", "matplotlib is not installed: tables only (`pip install 'gatepass[bench]'`)."]
    else:
        for name, caption in drawn:
            lines += ["", f"![{caption}]({name})"]
    lines += _markdown_tables(results)
    (out / "report.md").write_text("\n".join(lines) + "\n")
    return [out / "report.md", *(out / name for name, _ in drawn or [])]


def _versions(raw: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(raw["versions"].items())) or "-"

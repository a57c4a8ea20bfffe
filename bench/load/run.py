"""`python -m bench.load` (./scripts/load): start the stack, seed it, run locust headless for
a fixed time, print what it measured, and exit non-zero on any failure (docs/load.md).

Locust runs as a subprocess: it patches the standard library with gevent on import, which
must not happen to this process (nor to pytest's, which runs this as a subprocess too).
"""

import argparse
import asyncio
import csv
import datetime
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import asyncpg

from bench.load.seed import API_SCOPE, SESSION_COOKIE, create_clients, seed_people
from bench.load.stack import Stack, running_stack

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
# Every request type the mix must exercise (the `name=` of each request in the locustfile).
REQUEST_TYPES = (
    "page: /account (session)",
    "api: user token",
    "token: refresh_token",
    "token: client_credentials",
    "api: service token",
)
# Time for users to finish the task in hand after --run-time, so no request is cut off.
STOP_TIMEOUT_SECONDS = 15
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/load", description=__doc__)
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (60)")
    parser.add_argument("--users", type=int, default=40, help="virtual users in all (40)")
    parser.add_argument("--services", type=int, default=4, help="of which machine clients (4)")
    parser.add_argument("--spawn-rate", type=float, default=20, help="users started per second")
    parser.add_argument("--wait", default="0.5,1.5", help="seconds between a user's tasks: MIN,MAX")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "GATEPASS_LOAD_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="PostgreSQL server (a role with CREATEDB); the run uses a database of its own",
    )
    parser.add_argument(
        "--redis",
        default=os.environ.get("GATEPASS_LOAD_REDIS_URL", "redis://127.0.0.1:6379/0"),
        help="Redis; the run uses a key prefix of its own",
    )
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    args = parser.parse_args(argv)
    if not 0 < args.services < args.users:
        parser.error("--services must be at least 1 and fewer than --users")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    # SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so every process and scratch
    # store is still removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="gatepass-load-"))
    try:
        with running_stack(args.postgres, args.redis, workdir) as stack:
            fixtures = workdir / "fixtures.json"
            print(f"set-up: {args.users - args.services} people, 2 clients", file=sys.stderr)
            _seed(stack, args.users - args.services, fixtures)
            print(f"load: {args.users} users for {args.duration} s", file=sys.stderr)
            results = _measure(stack, args, fixtures, workdir)
            results["scratch"] = dict(stack.scratch)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if results["passed"] else 1


def _seed(stack: Stack, people: int, path: Path) -> None:
    clients = create_clients(stack)
    seeded = asyncio.run(seed_people(stack, clients["app"], people))
    fixtures = {
        "servers": list(stack.servers),
        "api": stack.api,
        "scope": API_SCOPE,
        "session_cookie": SESSION_COOKIE,
        "app": clients["app"],
        "service": clients["service"],
        "people": seeded,
    }
    path.write_text(json.dumps(fixtures))


def _measure(
    stack: Stack, args: argparse.Namespace, fixtures: Path, workdir: Path
) -> dict[str, Any]:
    load_before = os.getloadavg()
    done, wall, cpu = _run_locust(stack, args, fixtures, workdir)
    requests, total = _stats(workdir / "locust_stats.csv")
    unexercised = [name for name in REQUEST_TYPES if requests.get(name, {}).get("count", 0) == 0]
    checks = workdir / "checks.json"
    return {
        "machine": {
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "workload": {
            "duration_seconds": args.duration,
            "users": args.users,
            "services": args.services,
            "wait_seconds": args.wait,
            "processes": "2 x gatepass serve (1 worker each) + API (uvicorn) + locust",
        },
        "requests": [requests[name] for name in REQUEST_TYPES if name in requests],
        "total": total,
        "error_rate": total["failures"] / total["count"] if total["count"] else None,
        "cpu_share_of_one_core": {name: round(used / wall, 3) for name, used in cpu.items()},
        "cpu_ms_per_request": _cpu_per_request(cpu, requests),
        "checks": json.loads(checks.read_text()) if checks.exists() else {},
        "failures": _failures(workdir / "locust_failures.csv"),
        "unexercised": unexercised,
        "locust_exit_code": done.returncode,
        "locust_stderr": done.stderr[-4000:] if done.returncode else "",
        "passed": done.returncode == 0 and total["failures"] == 0 and not unexercised,
    }


def _run_locust(
    stack: Stack, args: argparse.Namespace, fixtures: Path, workdir: Path
) -> tuple[subprocess.CompletedProcess[str], float, dict[str, float]]:
    """Locust's run, its wall time, and the CPU seconds each process used meanwhile."""
    env = os.environ | {
        "LOAD_FIXTURES": str(fixtures),
        "LOAD_CHECKS": str(workdir / "checks.json"),
        "LOAD_WAIT": args.wait,
        "LOAD_SERVICES": str(args.services),
    }
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"]
    command += ["--users", str(args.users), "--spawn-rate", str(args.spawn_rate)]
    command += ["--run-time", f"{args.duration}s", "--stop-timeout", str(STOP_TIMEOUT_SECONDS)]
    command += ["--csv", str(workdir / "locust"), "--only-summary", "--loglevel", "WARNING"]
    command += ["--host", stack.issuer]
    before = _cpu_seconds(stack.pids) | {"locust": _children_cpu_seconds()}
    backends_before = _postgres_cpu_seconds(stack)
    before["machine"] = _machine_busy_seconds()
    started = time.monotonic()
    done = subprocess.run(
        command,
        env=env,
        capture_output=True,
        text=True,
        timeout=args.duration + STOP_TIMEOUT_SECONDS + 120,
        check=False,
    )
    wall = time.monotonic() - started
    # Locust is the only child that ended meanwhile: the children's rusage grew by its own.
    after = _cpu_seconds(stack.pids) | {"locust": _children_cpu_seconds()}
    after["machine"] = _machine_busy_seconds()
    used = {name: after[name] - before[name] for name in after}
    backends = _postgres_cpu_seconds(stack)
    used["postgres"] = sum(cpu - backends_before.get(pid, 0.0) for pid, cpu in backends.items())
    return done, wall, used


def _postgres_cpu_seconds(stack: Stack) -> dict[str, float]:
    """CPU seconds used so far by each PostgreSQL backend serving the run's database (the
    servers' pooled connections; one opened during the run counts from its start, one
    closed during it is missed)."""
    pids = asyncio.run(_backend_pids(stack.postgres_admin_url, stack.scratch["database"]))
    return _cpu_seconds({str(pid): pid for pid in pids}, missing_ok=True)


async def _backend_pids(url: str, database: str) -> list[int]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", database)
    finally:
        await conn.close()
    return [row["pid"] for row in rows]


def _machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy so far, over all CPUs (/proc/stat): what
    else ran decides how much of the two cores the run could have."""
    # cpu  user nice system idle iowait irq softirq steal ...: all but idle and iowait;
    # steal too, time the hypervisor gave to other machines.
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / CLOCK_TICKS


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cpu_per_request(
    cpu: Mapping[str, float], requests: Mapping[str, Mapping[str, Any]]
) -> dict[str, float | None]:
    """Milliseconds of CPU per request: both servers' over the requests they served, the
    API's over its own."""
    served = {"servers": 0, "api": 0}
    for name, row in requests.items():
        served["api" if name.startswith("api:") else "servers"] += row["count"]
    used = {"servers": cpu["server-a"] + cpu["server-b"], "api": cpu["api"]}
    return {k: round(1000 * used[k] / served[k], 2) if served[k] else None for k in served}


def _cpu_seconds(pids: Mapping[str, int], *, missing_ok: bool = False) -> dict[str, float]:
    """User + system CPU seconds each process has used so far (/proc/PID/stat)."""
    seconds = {}
    for name, pid in pids.items():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            if missing_ok:  # a backend that ended in between
                continue
            raise
        fields = stat.rsplit(")", 1)[1].split()
        seconds[name] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    return seconds


def _stats(path: Path) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    total: dict[str, Any] = {"name": "all", "count": 0, "failures": 0}
    if not path.exists():
        return rows, total
    with path.open(newline="") as file:
        for row in csv.DictReader(file):
            figures = {
                "name": row["Name"] if row["Name"] != "Aggregated" else "all",
                "count": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": round(float(row["Requests/s"]), 2),
                "p50_ms": _number(row["50%"]),
                "p95_ms": _number(row["95%"]),
                "p99_ms": _number(row["99%"]),
                "max_ms": _number(row["Max Response Time"]),
            }
            if row["Name"] == "Aggregated":
                total = figures
            else:
                rows[row["Name"]] = figures
    return rows, total


def _number(text: str) -> float | None:
    return None if text in ("", "N/A") else round(float(text), 1)


def _failures(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as file:
        return [
            {"name": row["Name"], "error": row["Error"], "occurrences": row["Occurrences"]}
            for row in csv.DictReader(file)
        ]


def render(results: Mapping[str, Any]) -> str:
    machine, workload = results["machine"], results["workload"]
    lines = [
        f"{machine['date']}, {machine['cpus']} CPUs, load average "
        f"{' '.join(map(str, machine['load_average_before']))} before, "
        f"{' '.join(map(str, machine['load_average_after']))} after",
        f"{workload['users']} users ({workload['services']} services), "
        f"{workload['duration_seconds']} s, wait {workload['wait_seconds']} s; "
        + workload["processes"],
        "",
        "| request | count | req/s | failures | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in [*results["requests"], results["total"]]:
        cells = [row["name"], row["count"], row.get("rps", ""), row["failures"]]
        cells += [row.get(key, "") for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms")]
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    rate = results["error_rate"]
    lines.append("")
    lines.append(f"error rate: {'-' if rate is None else f'{rate:.4%}'}")
    shares = ", ".join(f"{k} {v:.0%}" for k, v in results["cpu_share_of_one_core"].items())
    lines.append(f"CPU (share of one core over the run): {shares}")
    per = results["cpu_ms_per_request"]
    lines.append(f"CPU per request: servers {per['servers']} ms, API {per['api']} ms")
    lines.append(f"checks: {json.dumps(results['checks'])}")
    for failure in results["failures"]:
        lines.append(f"FAILED {failure['occurrences']}x {failure['name']}: {failure['error']}")
    if results["unexercised"]:
        lines.append(f"NOT EXERCISED: {', '.join(results['unexercised'])}")
    if results["locust_stderr"]:
        lines.append(f"locust exited {results['locust_exit_code']}:\n{results['locust_stderr']}")
    lines.append("PASSED" if results["passed"] else "FAILED")
    return "\n".join(lines)

"""The human-readable report: one table per question the issue asks."""

import os
import textwrap
from typing import Any

from bench import resource_report
from bench.workload import Throughput

GRANT_ORDER = ("client_credentials", "refresh_token")


def _mark(met: bool) -> str:
    return "met" if met else "MISSED"


def _row(label: str, t: Throughput) -> str:
    return (
        f"  {label:<22} {t.concurrency:>4} {t.ops_per_second:>10,.0f} "
        f"{t.p50_ms:>9.3f} {t.p99_ms:>9.3f} {t.cpu_us_per_op:>8.0f} {t.ops:>9,} {t.errors:>6}"
    )


def _header(results: dict[str, Any]) -> list[str]:
    v = results["versions"]
    return [
        f"gatepass bench: {results['mode']} mode, {results['seconds_per_case']:g} s per case "
        f"after {results['warmup_per_case']:g} s warm-up, {os.cpu_count()} CPUs",
        f"  Python {v['python']}, redis-py {v['redis-py']} (hiredis {v['hiredis']}), "
        f"Redis {v.get('redis')}, PostgreSQL {v.get('postgresql')}, SQLite {v.get('sqlite')}",
        f"  joserfc {v.get('joserfc')}, PyJWT {v.get('PyJWT')}, cryptography "
        f"{v.get('cryptography')}, uvicorn {v.get('uvicorn')} (h11 {v.get('h11')}), "
        f"httpx {v.get('httpx')}",
        f"  workload: {results['workload']['users']} users x "
        f"{results['workload']['sessions_per_user']} live sessions; every op picks another "
        "session; closed loop of N asyncio tasks in one process",
    ]


def _throughput(results: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "Session check: SessionManager.resume on a live session (check + sliding expiry)",
        f"  {'backend':<22} {'conc':>4} {'ops/s':>10} {'p50 ms':>9} {'p99 ms':>9} "
        f"{'CPU us':>8} {'ops':>9} {'errors':>6}",
    ]
    for name, by_level in results["session_check"].items():
        for t in by_level.values():
            lines.append(_row(name, t))
    for t in results["redis"]["raw_get"].values():
        lines.append(_row("raw redis-py GET", t))
    for t in results["redis"]["raw_getex"].values():
        lines.append(_row("raw GETEX (same EX)", t))
    lines += [
        "  raw GET / GETEX: the same s: keys, on a client built by gatepass's open_redis",
        "  (redis.asyncio + hiredis); GETEX carries the same EX as the session check.",
        "  CPU us: this process's CPU time per op (SQL driver threads included).",
    ]
    return lines


def _ratio(results: dict[str, Any]) -> list[str]:
    targets = results["targets"]
    lines = [
        "",
        "Redis session check / raw GET at equal concurrency "
        f"(target >= {targets['ratio_target']:.0%})",
        f"  {'conc':>4} {'check/GET':>10} {'':6} {'overall ops/s check / GET':>30} "
        f"{'GETEX/GET':>10} {'check/GETEX':>12} {'CPU GET/check':>14}",
    ]
    for level, ratio in targets["ratio_to_raw_get"].items():
        check = results["session_check"]["redis"][level].ops_per_second
        get = results["redis"]["raw_get"][level].ops_per_second
        parts = results["redis"]["paired_ratio_parts"][level]
        overall = f"{check:,.0f} / {get:,.0f} = {check / get:.1%}"
        cpu = (
            results["redis"]["raw_get"][level].cpu_us_per_op
            / results["session_check"]["redis"][level].cpu_us_per_op
        )
        lines.append(
            f"  {level:>4} {ratio:>10.1%} {_mark(ratio >= targets['ratio_target']):6} "
            f"{overall:>30} {parts['getex_over_get']:>10.1%} {parts['check_over_getex']:>12.1%} "
            f"{cpu:>14.1%}"
        )
    lines += [
        f"  Ratios are medians over {results['slices']} back-to-back turns (order flipped each",
        "  turn) of one rate over the other. GETEX/GET is what the sliding expiry itself costs;",
        "  check/GETEX is what gatepass's code around that one command costs. CPU GET/check",
        "  is the ratio of client CPU per op: what the rate ratio tends to when this one",
        "  Python process, not Redis, is the bottleneck; load elsewhere moves it least.",
    ]
    return lines


def _round_trips(results: dict[str, Any]) -> list[str]:
    trips = results["redis"]["round_trips"]
    per_check = trips["server_commands_per_check"]
    ours = {name: per for name, per in per_check.items() if per >= 0.01}
    others = round(sum(per for per in per_check.values() if per < 0.01) * trips["checks"])
    lines = [
        "",
        f"Redis round trips per session check (target 1), over {trips['checks']} checks",
        f"  client: {trips['round_trips_per_check']:.2f} round trips (socket writes), "
        f"{trips['replies_per_check']:.2f} replies   "
        f"{_mark(results['targets']['round_trips_met'])}",
        "  server (INFO commandstats delta, per check): "
        + (", ".join(f"{name} {per:.2f}" for name, per in sorted(ours.items())) or "none"),
    ]
    if others:
        lines.append(f"  (other clients of this Redis ran {others} more commands meanwhile)")
    return lines


def _memory(results: dict[str, Any]) -> list[str]:
    m = results["redis"]["memory"]
    pad = " " * 32
    return [
        "",
        "Redis memory per session (MEMORY USAGE key SAMPLES 0; target <= "
        f"{results['targets']['record_bytes_target']} B for the session record)",
        f"  session record  {m['key_prefix']}s:<digest> {m['session_record_bytes']:>6} B   "
        f"{_mark(results['targets']['record_bytes_met'])}: value {m['session_value_bytes']} B, "
        f"encoding {m['session_encoding']}",
        f"{pad}({m['session_record_bytes_with_run_prefix']} B under this run's longer prefix "
        f"{m['run_prefix']!r})",
        f"  user index      {m['key_prefix']}u:<user>   {m['index_bytes']:>6} B   for "
        f"{m['index_entries']} sessions = {m['index_bytes_per_session']:.0f} B per session",
        f"{pad}(encoding {m['index_encoding']}: an entry value is "
        f"{m['index_entry_value_bytes']} B, over hash-max-listpack-value "
        f"{m['hash_max_listpack_value']})",
        f"  together                     {m['total_bytes_per_session']:>6.0f} B   per session",
    ]


def _login(results: dict[str, Any]) -> list[str]:
    a = results["argon2"]
    lines = [
        "",
        f"Login cost, one at a time (argon2id m={a['memory_kib']} KiB, t={a['time_cost']}, "
        f"p={a['parallelism']})",
        f"  raw argon2-cffi alone: hash {a['hash_ms']:.1f} ms, verify {a['verify_ms']:.1f} ms "
        "(medians)",
        f"  {'backend':<10} {'raw verify ms':>14} {'authenticate ms':>16} {'ratio':>7} "
        f"{'then session start ms':>22}",
    ]
    for name, cost in results["login"].items():
        lines.append(
            f"  {name:<10} {cost['raw_verify_ms']:>14.1f} {cost['authenticate_ms']:>16.1f} "
            f"{cost['authenticate_over_raw_verify']:>6.2f}x {cost['start_ms']:>22.2f}"
        )
    lines.append("  (users live in SQL on every backend; 'redis' reads them from SQLite)")
    return lines


def _tokens(results: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "Tokens per algorithm, one task: gatepass beside joserfc and PyJWT called directly "
        f"({results['token_seconds_per_case']:g} s per case)",
        f"  {'alg':<6} {'case':<9} {'ours/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'CPU us':>7} "
        f"{'joserfc/s':>10} {'PyJWT/s':>8} {'ours/PyJWT':>11} {'ours/joserfc':>13} "
        f"{'bytes':>6} {'errors':>6}",
    ]
    for alg, by_case in results["tokens"].items():
        sizes = by_case["bytes"]
        for case, size in (("issue", sizes["access_token"]), ("verify", None)):
            r = by_case[case]
            ours = r["gatepass"]
            errors = ours.errors + r["joserfc"].errors + r["pyjwt"].errors
            lines.append(
                f"  {alg:<6} {case:<9} {ours.ops_per_second:>8,.0f} {ours.p50_ms:>7.3f} "
                f"{ours.p99_ms:>7.3f} {ours.cpu_us_per_op:>7.0f} "
                f"{r['joserfc'].ops_per_second:>10,.0f} {r['pyjwt'].ops_per_second:>8,.0f} "
                f"{r['gatepass_over_pyjwt']:>11.1%} {r['gatepass_over_joserfc']:>13.1%} "
                f"{'' if size is None else size:>6} {errors:>6}"
            )
        t = by_case["id_token_issue"]
        lines.append(
            f"  {alg:<6} {'id token':<9} {t.ops_per_second:>8,.0f} {t.p50_ms:>7.3f} "
            f"{t.p99_ms:>7.3f} {t.cpu_us_per_op:>7.0f} {'-':>10} {'-':>8} {'-':>11} {'-':>13} "
            f"{sizes['id_token']:>6} {t.errors:>6}"
        )
    lines += [
        "  issue: AccessTokens.issue (RFC 9068 claims, gid, auth_time; RS256 signs in a worker",
        "  thread) vs encoding the same claims with a fresh jti; verify: AccessTokens.verify vs",
        "  the same checks (alg, typ, iss, aud, exp, iat, required claims) in each library;",
        "  id token: IdTokens.issue with nonce, sid and at_hash. Ratios: medians over "
        f"{results['slices']} turns",
        "  of back-to-back rates. bytes: the compact token as sent.",
    ]
    return lines


def _exchange(results: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "Authorization-code exchange: POST /token, grant_type=authorization_code, on a live server",
        f"  {'backend':<10} {'conc':>4} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'server CPU ms':>14} {'client CPU us':>14} {'requests':>9} {'errors':>6}",
    ]
    for name, run in results["exchange"]["backends"].items():
        for level, t in run["requests"].items():
            cpu = run["server_cpu_ms_per_request"][level]
            server_cpu = "n/a" if cpu is None else f"{cpu:.2f}"
            lines.append(
                f"  {name:<10} {t.concurrency:>4} {t.ops_per_second:>8,.0f} {t.p50_ms:>8.2f} "
                f"{t.p99_ms:>8.2f} {server_cpu:>14} {t.cpu_us_per_op:>14.0f} {t.ops:>9,} "
                f"{t.errors:>6}"
            )
    first = next(iter(results["exchange"]["backends"].values()), None)
    if first is not None:
        lines.append(
            f"  each: client_secret_basic, PKCE S256, one code, {first['access_token_alg']} "
            f"access token + {first['id_token_alg']} id token (the defaults)"
        )
    lines += textwrap.wrap(
        results["exchange"]["server"],
        width=90,
        initial_indent="  server: ",
        subsequent_indent="  ",
    )
    lines += [
        "  server CPU ms: the server process's CPU time per request (/proc), threads included;",
        "  'redis' keeps codes (and throttling) in Redis, clients and users in SQLite.",
    ]
    return lines


def _vs_code(entry: dict[str, Any], level: Any) -> str:
    """This grant's rate over the code exchange on the same server, or '-' (none ran)."""
    ratio = (entry.get("baseline") or {}).get("ratio", {}).get(level)
    return "-" if ratio is None else f"{ratio:.2f}x"


def _cpu(ms: float | None) -> str:
    return "n/a" if ms is None else f"{ms:.2f}"


def _grant_rows(
    results: dict[str, Any],
) -> list[tuple[str, str, str, Throughput, float | None, str]]:
    """(grant, backend, access-token alg, throughput, server CPU ms, vs code) per row."""
    rows = []
    for grant in GRANT_ORDER:
        for backend, by_alg in results["grants"].get(grant, {}).items():
            for alg, entry in by_alg.items():
                for level, t in entry["requests"].items():
                    cpu = entry["server_cpu_ms_per_request"][level]
                    rows.append((grant, backend, alg, t, cpu, _vs_code(entry, level)))
    return rows


def grant_table(results: dict[str, Any]) -> list[str]:
    """client_credentials and refresh_token, per backend, algorithm and concurrency."""
    if "grants" not in results:
        return []
    lines = [
        "",
        "Token endpoint, other grants: POST /token per access-token algorithm, one live server "
        "per backend x algorithm",
        f"  {'grant':<18} {'backend':<8} {'alg':<5} {'conc':>4} {'req/s':>7} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'server CPU ms':>13} {'client CPU us':>13} {'requests':>8} "
        f"{'errors':>6} {'vs code':>7}",
    ]
    for grant, backend, alg, t, cpu, vs_code in _grant_rows(results):
        lines.append(
            f"  {grant:<18} {backend:<8} {alg:<5} {t.concurrency:>4} {t.ops_per_second:>7,.0f} "
            f"{t.p50_ms:>7.2f} {t.p99_ms:>7.2f} {_cpu(cpu):>13} {t.cpu_us_per_op:>13.0f} "
            f"{t.ops:>8,} {t.errors:>6} {vs_code:>7}"
        )
    lines += [f"  {line}" for line in _grant_notes(results)]
    return lines


def _first(results: dict[str, Any], grant: str, key: str) -> Any:
    """`key` of the first entry of `grant` (every entry of a grant has the same client)."""
    entries = (e for by_alg in results["grants"][grant].values() for e in by_alg.values())
    return next((entry[key] for entry in entries), "?")


def _grant_notes(results: dict[str, Any]) -> list[str]:
    algorithms = "; ".join(
        f"{backend}: {', '.join(algs)}" for backend, algs in results["grants"]["algorithms"].items()
    )
    scope = _first(results, "client_credentials", "scope")
    id_token_alg = _first(results, "refresh_token", "id_token_alg")
    notes = (
        f"client_credentials: client_secret_basic, scope {scope}; one access token in the "
        "row's algorithm, no id token, no refresh token.",
        "refresh_token: client_secret_basic, a distinct live refresh token per request "
        "(families started beforehand from the core, scope "
        f"{_first(results, 'refresh_token', 'scope')}); the answer carries an access token "
        f"in the row's algorithm, an {id_token_alg} id token (the client's) and the successor.",
        "vs code: req/s over the authorization-code exchange on the same server (same "
        "backend, access-token algorithm and concurrency); '-' where that server ran none.",
        f"algorithms per backend: {algorithms}.",
    )
    return [line for note in notes for line in textwrap.wrap(note, width=88)]


def markdown(results: dict[str, Any]) -> str:
    """The token-endpoint and resource-toolkit figures as Markdown: what bench/README.md
    quotes."""
    v = results["versions"]
    lines = [
        f"{results['mode']} mode, {results['seconds_per_case']:g} s per case after "
        f"{results['warmup_per_case']:g} s warm-up, {os.cpu_count()} CPUs; Python {v['python']}, "
        f"uvicorn {v.get('uvicorn')}, cryptography {v.get('cryptography')}, PostgreSQL "
        f"{v.get('postgresql')}, Redis {v.get('redis')}, SQLite {v.get('sqlite')}.",
        "",
        "| grant | backend | access token | conc | req/s | p50 ms | p99 ms | server CPU ms "
        "| vs code | errors |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name, run in results["exchange"]["backends"].items():
        for level, t in run["requests"].items():
            cpu = run["server_cpu_ms_per_request"][level]
            lines.append(
                _markdown_row("authorization_code", name, run["access_token_alg"], t, cpu, "1.00x")
            )
    for grant, backend, alg, t, cpu, vs_code in _grant_rows(results):
        lines.append(_markdown_row(grant, backend, alg, t, cpu, vs_code))
    lines += resource_report.markdown(results)
    return "\n".join(lines)


def _markdown_row(
    grant: str, backend: str, alg: str, t: Throughput, cpu: float | None, vs_code: str
) -> str:
    return (
        f"| {grant} | {backend} | {alg} | {t.concurrency} | {t.ops_per_second:,.0f} "
        f"| {t.p50_ms:.1f} | {t.p99_ms:.1f} | {_cpu(cpu)} | {vs_code} | {t.errors} |"
    )


def render(results: dict[str, Any]) -> str:
    sections = (
        _header,
        _throughput,
        _ratio,
        _round_trips,
        _memory,
        _login,
        _tokens,
        _exchange,
        grant_table,
        resource_report.render,
    )
    return "\n".join(line for section in sections for line in section(results))

"""`gatepass bench` end to end, in its smallest mode (--smoke: every part, each for a
moment), on the test PostgreSQL and Redis: one JSON object whose every result names its
baseline and whose ratios follow from the figures, a report with charts, and nothing
left behind. Nothing here asserts on a rate, a latency or a wall time."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gatepass.benchmarks import output, peers, suite, summary
from gatepass.benchmarks.workload import Throughput
from tests.support import POSTGRES_ADMIN_URL, REDIS_URL, assert_scratch_removed

KEYS = {"name", "value", "unit", "baseline", "baseline_value", "ratio", "goal", "ratio_interval"}
COMMAND = "import sys; from gatepass.cli import main; sys.exit(main())"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, str]:
    """One smoke run: (its JSON, its --out directory, its stderr)."""
    out = tmp_path_factory.mktemp("bench") / "report"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEPASS_")}
    env |= {"GATEPASS_DATABASE_URL": POSTGRES_ADMIN_URL, "GATEPASS_REDIS_URL": REDIS_URL}
    done = subprocess.run(
        [sys.executable, "-c", COMMAND, "bench", "--smoke", "--json", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout), out, done.stderr


def test_stdout_is_exactly_one_json_object_of_machine_and_results(
    run: tuple[dict[str, Any], Path, str],
) -> None:
    document, _, _ = run
    assert set(document) == {"machine", "results"}
    assert document["machine"]["mode"] == "smoke"
    assert document["machine"]["backends"] == ["sqlite", "postgres", "redis"]
    # Issuing is measured on what `gatepass serve` runs with these settings: both stores.
    assert document["machine"]["deployment"] == "redis"
    assert document["results"]
    assert all(set(r) == KEYS for r in document["results"])
    names = [r["name"] for r in document["results"]]
    assert len(names) == len(set(names))


def test_the_progress_bar_went_to_stderr(run: tuple[dict[str, Any], Path, str]) -> None:
    assert "[" in run[2]
    assert "session check on redis" in run[2]


def test_every_result_names_its_baseline(run: tuple[dict[str, Any], Path, str]) -> None:
    for r in run[0]["results"]:
        assert isinstance(r["baseline"], str), r
        assert r["baseline"].strip(), r


def test_ratios_are_ours_over_the_baseline_inverted_where_lower_is_better(
    run: tuple[dict[str, Any], Path, str],
) -> None:
    for r in run[0]["results"]:
        value, base = r["value"], r["baseline_value"]
        if value is None or base is None or value <= 0 or base <= 0:
            assert r["ratio"] is None, r
            continue
        expected = base / value if r["unit"] in summary.LOWER_IS_BETTER else value / base
        assert math.isclose(r["ratio"], expected, rel_tol=1e-9), r


@pytest.mark.parametrize(
    ("name", "goal"),
    [
        ("session_check_redis_c2", 0.8),
        ("redis_session_record_bytes", 1.0),
        ("redis_bytes_per_session_with_index", 1.0),
        ("verify_uncached_ES256_vs_raw", 0.9),
        ("verify_uncached_RS256_vs_raw", 0.75),
        ("verify_cached_EdDSA_vs_raw", 20.0),
        ("token_client_credentials_ES256", 1.2),
        ("token_client_credentials_RS256", 1.0),
        ("discovery", 1.5),
        ("jwks", 1.5),
        ("login_throughput", 0.8),
        ("endpoint_protected_vs_open", 0.7),
        ("jwks_p99_under_login_load", 1.0),
        ("verify_p99_under_login_load", 1.0),
        ("verify_p99_quiet", None),
        ("wire_access_token_ES256", None),
        ("revocation_session_redis", None),
        ("revocation_token_feed_p99", None),
        ("token_refresh_token_ES256_c2", None),
        ("scaling_client_credentials_workers_2", None),
        ("scaling_session_check_600_live", None),
    ],
)
def test_the_issue_figures_are_there_with_their_goals(
    run: tuple[dict[str, Any], Path, str], name: str, goal: float | None
) -> None:
    found = {r["name"]: r for r in run[0]["results"]}
    assert name in found
    assert found[name]["goal"] == goal


def test_the_token_endpoint_is_beside_oidc_provider_or_says_why_not(
    run: tuple[dict[str, Any], Path, str],
) -> None:
    peer = run[0]["machine"]["peer"]
    found = {r["name"]: r for r in run[0]["results"]}
    entry = found["token_client_credentials_ES256"]
    assert entry["baseline"].startswith("oidc-provider")
    if peer["unavailable"] is None:
        assert entry["baseline_value"] is not None
    else:
        assert "baseline unavailable" in entry["baseline"]


def test_report_and_charts_are_written(run: tuple[dict[str, Any], Path, str]) -> None:
    document, out, stderr = run
    report = (out / "report.md").read_text()
    for r in document["results"]:
        assert f"| {r['name']} |" in report
    charts = sorted(out.glob("*.png"))
    assert charts
    for chart in charts:
        assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert f"]({chart.name})" in report
    assert f"wrote {out / 'report.md'}" in stderr


def test_the_scratch_directory_is_gone(run: tuple[dict[str, Any], Path, str]) -> None:
    assert not Path(run[0]["machine"]["scratch"]["directory"]).exists()


async def test_nothing_is_left_in_redis_or_postgresql(
    run: tuple[dict[str, Any], Path, str],
) -> None:
    scratch = run[0]["machine"]["scratch"]
    assert scratch["redis_prefix"].startswith("gpbench:")
    assert scratch["postgres_database"].startswith("gatepass_bench_")
    await assert_scratch_removed(scratch["redis_prefix"], scratch["postgres_database"])


@pytest.mark.parametrize(
    ("unit", "value", "baseline", "expected"),
    [
        ("ops/s", 200.0, 100.0, 2.0),
        ("ms", 2.0, 1.0, 0.5),
        ("bytes", 150.0, 300.0, 2.0),
        ("round trips", 1.0, 1.0, 1.0),
        ("ops/s", 100.0, None, None),
        ("ms", 0.0, 1.0, None),
    ],
    ids=["rate", "latency inverted", "size inverted", "round trips", "no baseline", "no value"],
)
def test_ratio_is_higher_when_better(
    unit: str, value: float, baseline: float | None, expected: float | None
) -> None:
    assert summary.ratio(value, baseline, unit) == expected


def _throughput(rate: float) -> Throughput:
    return Throughput(4, int(rate), 0, 1.0, rate, 1.0, 2.0, 100.0)


def test_an_unavailable_peer_is_named_with_its_reason_and_no_ratio() -> None:
    cc = {"gatepass": _throughput(500.0), "peer": None}
    raw = {
        "peer": {"unavailable": "node not found", "version": None},
        "issuing": {"algorithms": {"ES256": {"client_credentials": cc}}, "static": None},
    }
    entry = summary._token_endpoint(raw)[0]
    assert entry["baseline"] == "oidc-provider: baseline unavailable (node not found)"
    assert (entry["baseline_value"], entry["ratio"], entry["goal"]) == (None, None, 1.2)
    assert summary.met(entry) is None  # neither met nor missed: not measured
    assert output.text(_raw_of(raw), [entry]).count(">= 1.2x: not measured") == 1


def _raw_of(parts: dict[str, Any]) -> dict[str, Any]:
    machine = {"mode": "smoke", "seconds": 1.0, "cpus": 2, "load_average": None}
    return {"machine": machine, "backends": ["sqlite"], **parts}


async def test_without_node_the_peer_install_answers_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no node, no npm
    assert await peers.install(tmp_path) == "node not found"


def test_without_matplotlib_the_report_has_tables_only_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    raw = {
        "machine": {"mode": "smoke", "cpus": 2, "load_average": None, "platform": "x"}
        | {"python": "3", "gatepass": "0"},
        "backends": ["sqlite"],
        "versions": {},
        "peer": {"unavailable": "node not found", "version": None},
    }
    results = [summary.result("login_sqlite", 40.0, "ms", "argon2-cffi verify", 35.0)]
    written = output.write_report(tmp_path, raw, results)
    assert written == [tmp_path / "report.md"]
    report = (tmp_path / "report.md").read_text()
    assert "matplotlib is not installed: tables only" in report
    assert "| login_sqlite | 40 | ms | argon2-cffi verify | 35 | 0.88x |" in report
    assert "baseline unavailable (node not found)" in report


def test_quick_mode_measures_the_goal_comparisons_in_more_turns() -> None:
    """The Redis session check and the protected endpoint carry goals: in quick mode each
    of their cases runs in six turns, not the two of the other request-path cases, and
    full mode keeps its own timing for both."""
    quick, full = suite.MODES["quick"], suite.MODES["full"]
    assert quick.goal_timing.slices == 6 > quick.timing.slices
    assert quick.goal_timing.seconds / quick.goal_timing.slices == pytest.approx(0.1)
    assert full.check_timing is None
    assert full.goal_timing is full.timing

"""The load test (bench/load, docs/load.md), bounded for CI: 12 s of the same mix with 8
virtual users and short waits, against two `gatepass serve` processes on PostgreSQL +
Redis and the toolkit-protected API. It runs as a subprocess, as ./scripts/load does:
locust patches the standard library with gevent on import, never in this process.

Correctness under load only; how fast is docs/load.md's business, never asserted here.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import POSTGRES_ADMIN_URL, REDIS_URL, assert_scratch_removed

REPOSITORY = Path(__file__).resolve().parents[2]
REQUEST_TYPES = {
    "page: /account (session)",
    "api: user token",
    "token: refresh_token",
    "token: client_credentials",
    "api: service token",
}
# Set-up, start-up and the stop are slow on a shared 2-core machine; only a bound.
RUN_TIMEOUT_SECONDS = 600


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    out = tmp_path_factory.mktemp("load") / "load.json"
    args = ["--duration", "12", "--users", "8", "--services", "2", "--wait", "0.1,0.4"]
    args += ["--postgres", POSTGRES_ADMIN_URL, "--redis", REDIS_URL, "--json", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "bench.load", *args],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    assert out.exists(), done.stdout + done.stderr
    # The table is stdout; progress lines go to stderr.
    return json.loads(out.read_text()), done.stdout


def test_every_response_is_the_expected_one(run: tuple[dict[str, Any], str]) -> None:
    results, output = run
    assert results["failures"] == [], output
    assert results["total"]["failures"] == 0, output
    assert results["error_rate"] == 0
    assert results["locust_exit_code"] == 0, output
    assert results["passed"], output
    assert output.rstrip().endswith("PASSED")


def test_every_request_type_of_the_mix_is_exercised(run: tuple[dict[str, Any], str]) -> None:
    results, output = run
    counts = {row["name"]: row["count"] for row in results["requests"]}
    assert set(counts) == REQUEST_TYPES, output
    assert all(count > 0 for count in counts.values()), counts
    assert results["total"]["count"] == sum(counts.values())
    assert results["unexercised"] == []


def test_refresh_tokens_rotate_and_each_successor_is_used_next(
    run: tuple[dict[str, Any], str],
) -> None:
    # The app's client is strict (retry window 0): presenting anything but the newest
    # successor would have revoked the family and failed every later rotation.
    checks = run[0]["checks"]
    assert checks["rotation presented the previous successor"] > 0, checks
    assert checks["api accepted a rotated access token"] > 0, checks


def test_the_figures_are_reported(run: tuple[dict[str, Any], str]) -> None:
    results, output = run
    for row in results["requests"]:
        assert row["p99_ms"] is not None
        assert f"| {row['name']} | {row['count']} |" in output
    assert "error rate: 0.0000%" in output
    processes = {"server-a", "server-b", "api", "locust", "postgres", "machine"}
    assert set(results["cpu_share_of_one_core"]) == processes
    # Both servers and the API served requests, so each used some CPU.
    assert all(results["cpu_ms_per_request"][k] > 0 for k in ("servers", "api"))


def test_the_scratch_directory_is_gone(run: tuple[dict[str, Any], str]) -> None:
    assert not Path(run[0]["scratch"]["directory"]).exists()


async def test_nothing_is_left_in_redis_or_postgresql(run: tuple[dict[str, Any], str]) -> None:
    scratch = run[0]["scratch"]
    assert scratch["redis_prefix"].startswith("gpload:")
    assert scratch["database"].startswith("gatepass_load_")
    await assert_scratch_removed(scratch["redis_prefix"], scratch["database"])

"""interval.ratio_interval: how sure a ratio of interleaved turns is, and what the report
makes of it. Simulated turns with a known true ratio stand in for a noisy host."""

import random
from pathlib import Path

import pytest

from gatepass.benchmarks import charts, interval, output, summary
from gatepass.benchmarks.interval import MIN_TURNS, ratio_interval
from gatepass.benchmarks.workload import Throughput, interleaved


def _turns(rates: list[float], seconds: float = 1.0) -> list[tuple[int, float]]:
    return [(round(rate * seconds), seconds) for rate in rates]


def test_turns_without_noise_give_the_ratio_itself() -> None:
    low, high = ratio_interval(_turns([900.0] * 8), _turns([1000.0] * 8)) or (0, 0)
    assert low == pytest.approx(0.9)
    assert high == pytest.approx(0.9)


def test_the_interval_holds_the_ratio_of_all_turns_and_no_more_than_their_spread() -> None:
    ours = _turns([850.0, 950.0, 400.0, 900.0, 880.0, 1400.0, 910.0, 870.0])
    base = _turns([1000.0, 1000.0, 1020.0, 980.0, 1000.0, 990.0, 300.0, 1000.0])
    low, high = ratio_interval(ours, base) or (0, 0)
    overall = sum(o for o, _ in ours) / sum(b for b, _ in base)  # equal seconds per turn
    per_turn = [o / b for (o, _), (b, _) in zip(ours, base, strict=True)]
    assert min(per_turn) <= low < overall < high <= max(per_turn)


def test_the_same_turns_always_give_the_same_interval() -> None:
    rng = random.Random(1)
    ours = _turns([rng.uniform(800, 1000) for _ in range(12)])
    base = _turns([rng.uniform(900, 1100) for _ in range(12)])
    assert ratio_interval(ours, base) == ratio_interval(list(ours), list(base))


def test_intervals_hold_the_true_ratio_about_as_often_as_they_claim() -> None:
    """Runs of 16 turns, each side's rate moved by a host that stalls now and then: the
    intervals hold the true ratio in roughly the share they claim. (The percentile
    bootstrap runs a little narrow with few turns; far below 95% would mean it is wrong,
    at 100% it would say nothing.)"""
    rng = random.Random(7)
    true_ratio, held, widths = 0.88, 0, []
    for _ in range(200):
        ours, base = [], []
        for _ in range(16):
            stall = rng.random() < 0.15  # a burst of other work hits one side of the turn
            side = rng.random() < 0.5
            ours.append(1000 * true_ratio * rng.gauss(1, 0.05) * (0.4 if stall and side else 1))
            base.append(1000 * rng.gauss(1, 0.05) * (0.4 if stall and not side else 1))
        low, high = ratio_interval(_turns(ours, 1.0), _turns(base, 1.0)) or (0, 0)
        held += low <= true_ratio <= high
        widths.append(high - low)
    assert 0.85 * 200 <= held < 200
    assert min(widths) > 0


@pytest.mark.parametrize(
    ("ours", "base"),
    [
        (_turns([900.0] * (MIN_TURNS - 1)), _turns([1000.0] * (MIN_TURNS - 1))),
        (_turns([900.0] * 6), _turns([1000.0] * 7)),  # not paired turn by turn
        (_turns([900.0] * 6), [(0, 1.0)] * 6),  # the baseline did nothing
        (_turns([900.0] * 6), [(10, 0.0)] * 6),  # a turn of no time
    ],
    ids=["too few turns", "unpaired", "empty baseline", "no time"],
)
def test_no_interval_without_enough_paired_turns(
    ours: list[tuple[int, float]], base: list[tuple[int, float]]
) -> None:
    assert ratio_interval(ours, base) is None


async def test_interleaved_records_each_turn_of_each_op() -> None:
    async def op(i: int) -> bool:
        return True

    run = await interleaved([op, op], concurrency=1, items=1, seconds=0.03, warmup=0, slices=6)
    for result in run.results:
        assert len(result.turns) == 6
        assert sum(ops for ops, _ in result.turns) == result.ops
        seconds = sum(s for _, s in result.turns)
        assert seconds == pytest.approx(result.seconds, abs=1e-3)  # Throughput rounds to ms
    entry = summary.result("x", 1.0, "ops/s", "y", 1.0, 0.5, _pair(run.results))
    expected = ratio_interval(run.results[0].turns, run.results[1].turns)
    assert expected is not None
    assert entry["ratio_interval"] == list(expected)


def _pair(results: list[Throughput]) -> tuple[interval.Turns, interval.Turns]:
    return results[0].turns, results[1].turns


def _entry(ours: list[float], base: list[float], goal: float) -> summary.Result:
    total = sum(ours) / sum(base)
    return summary.result(
        "verify_uncached_ES256_vs_raw",
        total * 1000,
        "ops/s",
        "cryptography ES256 verify",
        1000.0,
        goal,
        (_turns(ours), _turns(base)),
    )


def test_a_goal_inside_the_interval_is_within_noise_and_the_report_says_so(
    tmp_path: Path,
) -> None:
    noisy = _entry([870.0, 930.0, 610.0, 900.0, 880.0, 1300.0, 890.0, 860.0], [1000.0] * 8, 0.9)
    clear = _entry([700.0] * 8, [1000.0] * 8, 0.9)
    low, high = noisy["ratio_interval"]
    assert low < 0.9 <= high
    assert summary.within_noise(noisy)
    assert not summary.within_noise(clear)  # missed by more than the run's noise
    assert clear["ratio_interval"] == [pytest.approx(0.7), pytest.approx(0.7)]
    raw = {
        "machine": {"mode": "quick", "cpus": 2, "load_average": None, "platform": "x"}
        | {"python": "3", "gatepass": "0", "seconds": 1.0},
        "backends": ["sqlite"],
        "versions": {},
        "peer": {"unavailable": "node not found", "version": None},
    }
    text = output.text(raw, [noisy])
    assert f"({low:.2f}-{high:.2f})" in text
    assert "within noise" in text
    output.write_report(tmp_path, raw, [noisy, clear])
    report = (tmp_path / "report.md").read_text()
    assert "Within this run's noise (the goal inside the ratio's interval): " in report
    assert "verify_uncached_ES256_vs_raw." in report
    assert report.count("within noise") == 1  # the noisy row; the clear miss is a miss


def test_the_ratio_chart_draws_the_intervals_it_has(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    noisy = _entry([870.0, 930.0, 610.0, 900.0, 880.0, 1300.0, 890.0, 860.0], [1000.0] * 8, 0.9)
    size = summary.result("redis_session_record_bytes", 184, "bytes", "target", 300, 1.0)
    assert size["ratio_interval"] is None
    path = tmp_path / "ratios.png"
    assert charts._ratios(plt, [noisy, size], path)
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def _measured(rates: list[float]) -> Throughput:
    turns = tuple(_turns(rates))
    ops = sum(n for n, _ in turns)
    return Throughput(1, ops, 0, float(len(turns)), ops / len(turns), 1.0, 2.0, 100.0, turns)


def test_full_mode_token_rates_beside_pyjwt_carry_intervals_too() -> None:
    pair = {
        "gatepass": _measured([300.0, 310.0, 290.0, 305.0, 295.0]),
        "pyjwt": _measured([100.0] * 5),
    }
    entries = summary._tokens({"tokens": {"ES256": {"issue": pair, "verify": pair}}})
    assert [e["name"] for e in entries] == ["access_token_issue_ES256", "access_token_verify_ES256"]
    for entry in entries:
        low, high = entry["ratio_interval"]
        assert 2.9 <= low < entry["ratio"] < high <= 3.1

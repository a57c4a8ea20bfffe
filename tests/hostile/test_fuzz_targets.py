"""The coverage-guided fuzz targets (fuzz/, atheris) run for a bounded number of inputs:
any exception a parser does not document fails the run (fuzz/README.md)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
RUNS = 20_000  # seconds each here; `./scripts/fuzz TARGET` runs for a minute


@pytest.mark.parametrize("target", ["tokens", "requests"])
def test_the_fuzz_target_finds_no_crash_in_a_bounded_run(target: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "fuzz" / f"{target}.py"),
            f"-runs={RUNS}",
            "-seed=1",
            f"-artifact_prefix={tmp_path}/",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stderr + done.stdout
    assert done.returncode == 0, output[-3000:]
    assert f"Done {RUNS} runs" in output
    assert not list(tmp_path.glob("crash-*"))

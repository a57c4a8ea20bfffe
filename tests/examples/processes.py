"""The example apps under examples/ as real subprocesses, run the one command their
READMEs give (`python examples/<name>/app.py`), for the example tests.

    with running_example("api", {"GATEPASS_ISSUER": issuer}) as api_url:
        httpx.get(f"{api_url}/me", headers=...)

    done = run_example("service", {...})  # a command-line example, run to its end
    service = import_example("service")   # its classes, to drive them from a test

Each gets this process's environment without the examples' own variables (a developer's
GATEPASS_REDIS_URL must not leak in) plus the `env` given, and PORT for a server.
"""

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import IO

import httpx

from tests.live_server import free_port

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
STARTUP_SECONDS = 30.0
STOP_SECONDS = 10.0
RUN_SECONDS = 120.0
EXAMPLE_VARIABLES = ("GATEPASS_", "API_", "WEBAPP_", "SPA_", "NATIVE_", "SERVICE_", "PORT")


def example_command(name: str, *args: str) -> list[str]:
    app = EXAMPLES / name / "app.py"
    if not app.is_file():
        raise FileNotFoundError(f"no example {name!r}: {app} does not exist")
    return [sys.executable, str(app), *args]


def import_example(name: str) -> ModuleType:
    """examples/<name>/app.py as a module (examples are scripts, not a package); only for
    examples that do nothing at import but define things."""
    path = Path(example_command(name)[1])
    spec = importlib.util.spec_from_file_location(f"example_{name}_app", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def example_environment(env: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without the examples' own variables (GATEPASS_*,
    API_*, WEBAPP_*, ...: a developer's exported ones must not leak in), plus `env`;
    output unbuffered, so a test reads each line when it is printed."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(EXAMPLE_VARIABLES)}
    return inherited | {"PYTHONUNBUFFERED": "1"} | dict(env)


@contextmanager
def running_example(name: str, env: Mapping[str, str], port: int | None = None) -> Iterator[str]:
    """Start examples/<name>/app.py listening on 127.0.0.1:`port` (a free one if None),
    wait until it answers HTTP, yield its base URL, stop it at the end. A start that fails
    raises with what the app printed."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            example_command(name),
            env=example_environment({**env, "PORT": str(port)}),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_answering(process, url, log, name)
            yield url
        finally:
            stop(process)


def run_example(
    name: str, env: Mapping[str, str], args: Sequence[str] = (), timeout: float = RUN_SECONDS
) -> subprocess.CompletedProcess[str]:
    """Run a command-line example to its end; its exit code, stdout and stderr."""
    return subprocess.run(
        example_command(name, *args),
        env=example_environment(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def stop(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """Ask the process to end (SIGTERM: uvicorn shuts down cleanly), kill it if it will
    not within STOP_SECONDS."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _answers(url: str) -> bool:
    """Any HTTP answer at all means listening: some examples have no open page at `/`."""
    try:
        httpx.get(url, timeout=1.0)
    except httpx.TransportError:
        return False
    return True


def _wait_until_answering(
    process: subprocess.Popen[bytes], url: str, log: IO[bytes], name: str
) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"example {name} exited with {process.returncode}:\n{_read(log)}")
        if _answers(url):
            return
        time.sleep(0.1)
    raise RuntimeError(f"example {name} not answering after {STARTUP_SECONDS} s:\n{_read(log)}")


def _read(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")

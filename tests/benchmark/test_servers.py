"""server.Servers: `gatepass serve` processes started together, then each handed to one part
of the run and stopped after it; real processes, watched through /proc."""

import os
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from gatepass.benchmarks.environment import BenchError
from gatepass.benchmarks.server import Servers, Spec
from gatepass.config import Settings
from gatepass.storage.backends import Backends


@pytest.fixture
def backend() -> str:
    return "redis"


def children() -> set[int]:
    """This process's live child processes (Linux /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == os.getpid() and state != "Z":
            found.add(int(entry.name))
    return found


async def healthy(url: str) -> bool:
    async with httpx.AsyncClient(base_url=url, trust_env=False) as http:
        return (await http.get("/healthz")).status_code == 200


async def test_servers_started_together_are_each_handed_out_then_stopped(
    settings: Settings, backends: Backends, tmp_path: Path
) -> None:
    del backends  # the database, migrated
    first, second = Spec(settings, "first"), Spec(settings, "second")
    before = children()
    async with Servers(tmp_path) as servers:
        await servers.start([first, second])
        started = children() - before
        assert len(started) == 2
        async with servers.serve(first) as server:
            assert server.pid in started  # the one started beforehand, not a new one
            assert await healthy(server.url)
            assert children() - before == started  # nothing started on the way
        assert children() - before == started - {server.pid}  # stopped after its part
        async with servers.serve(Spec(settings, "third")) as late:
            assert late.pid not in started  # not started beforehand: started now
            assert await healthy(late.url)
    assert children() == before  # the one no part took, stopped at the end


async def test_a_spec_given_twice_is_one_server_for_two_parts(
    settings: Settings, backends: Backends, tmp_path: Path
) -> None:
    del backends
    shared = Spec(settings, "shared")
    before = children()
    async with Servers(tmp_path) as servers:
        await servers.start([shared, Spec(settings, "other"), shared])
        assert len(children() - before) == 2
        async with servers.serve(shared) as first_part:
            pass
        assert first_part.pid in children()  # kept for the second part
        async with servers.serve(shared) as second_part:
            assert second_part.pid == first_part.pid
            assert await healthy(second_part.url)
        assert first_part.pid not in children()  # stopped after the last
        with pytest.raises(ValueError, match="two different servers"):
            await servers.start([shared, Spec(settings, "shared", workers=2)])


async def test_a_server_started_for_other_settings_is_replaced(
    settings: Settings, backends: Backends, tmp_path: Path
) -> None:
    del backends
    async with Servers(tmp_path) as servers:
        await servers.start([Spec(settings, "tokens")])
        (old,) = children()
        other = Spec(replace(settings, access_token_alg="RS256"), "tokens")
        async with servers.serve(other) as server:
            assert server.pid != old
            assert old not in children()
            assert server.access_token_alg == "RS256"


async def test_when_one_cannot_start_none_is_left_running(
    settings: Settings, backends: Backends, tmp_path: Path
) -> None:
    del backends
    before = children()
    broken = Spec(settings, "broken", extra={"GATEPASS_ACCESS_TOKEN_TTL": "-5"})
    async with Servers(tmp_path) as servers:
        with pytest.raises(BenchError, match="exited"):
            await servers.start([Spec(settings, "fine"), broken])
        assert children() == before

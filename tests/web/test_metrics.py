"""`/metrics` (DESIGN.md operations endpoints): Prometheus text for the scraper only,
routes by template, audit events counted, and one view over every worker process."""

from collections.abc import Callable
from pathlib import Path

import httpx

from gatepass.config import Secret, Settings
from tests.live_server import live_server
from tests.web.conftest import AppClient, assert_clean_error, sign_up_as


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in the exposition, 0 when absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        metric, _, value = line.rpartition(" ")
        if not metric.startswith(name + "{"):
            continue
        found = ",".join(sorted(metric[len(name) + 1 : -1].split(",")))
        if found == wanted:
            return float(value)
    return 0.0


async def test_a_local_scraper_reads_requests_by_route_template_and_audit_events(
    client: httpx.AsyncClient,
) -> None:
    before = (await client.get("/metrics")).text
    await sign_up_as(client, "ada@example.com")
    await client.get("/login/no-such-provider")
    await client.get("/no/such/page/42")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    text = response.text

    def grew(name: str, **labels: str) -> float:
        return _sample(text, name, **labels) - _sample(before, name, **labels)

    requests = "gatepass_http_requests_total"
    assert grew(requests, route="/signup", method="POST", status="303") == 1
    assert grew(requests, route="/login/{provider}", method="GET", status="404") == 1
    assert grew(requests, route="unmatched", method="GET", status="404") == 1
    assert "/no/such/page/42" not in text  # raw paths never become labels
    assert grew("gatepass_audit_events_total", type="signup") == 1
    # The form and its answer: GET and POST, timed under one route.
    assert grew("gatepass_http_request_duration_seconds_count", route="/signup") == 2


async def test_anyone_else_is_told_there_is_no_such_page(
    settings: Settings, app_client: AppClient
) -> None:
    async with app_client(settings, address="198.51.100.7") as remote:
        assert_clean_error(await remote.get("/metrics"), 404)
    async with app_client(settings) as local:
        # Through a proxy on this host, the client is whoever the proxy says: not local.
        proxied = await local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"})
        assert_clean_error(proxied, 404)


async def test_with_a_token_the_scraper_must_send_it(
    make_settings: Callable[..., Settings], app_client: AppClient
) -> None:
    settings = make_settings(metrics_token=Secret("scrape-token-0123456789"))
    async with app_client(settings, address="198.51.100.7") as remote:
        assert (await remote.get("/metrics")).status_code == 404
        wrong = {"Authorization": "Bearer scrape-token-wrong"}
        assert (await remote.get("/metrics", headers=wrong)).status_code == 404
        right = {"Authorization": "Bearer scrape-token-0123456789"}
        assert (await remote.get("/metrics", headers=right)).status_code == 200
    async with app_client(settings) as local:  # the token is needed from this host too
        assert (await local.get("/metrics")).status_code == 404


def test_one_scrape_counts_the_requests_of_every_worker(tmp_path: Path) -> None:
    hits = 40
    with live_server(tmp_path, workers=2) as server:
        for _ in range(hits):  # a new connection each: the kernel spreads them over both
            assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
        for _ in range(4):
            text = httpx.get(f"{server.url}/metrics", timeout=10).text
            count = _sample(
                text, "gatepass_http_requests_total", route="/healthz", method="GET", status="200"
            )
            # Every scrape sees all the requests, whichever worker answers it.
            assert count >= hits, count


def test_the_access_log_is_off_unless_asked_for(tmp_path: Path) -> None:
    line = '"GET /healthz HTTP/1.1" 200'
    for options, logged in (((), False), (("--access-log",), True)):
        workdir = tmp_path / str(logged)
        workdir.mkdir()
        with live_server(workdir, options=options) as server:
            assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
            assert (line in server.read_log()) is logged, server.read_log()[-500:]

"""Issuing at the token endpoint, per access-token algorithm, on a live `gatepass serve`,
beside oidc-provider (benchmarks/peers.py) where Node.js is available.

Per algorithm, one server (the algorithm is the server's GATEPASS_ACCESS_TOKEN_ALG; all of
`server_specs` are started together beforehand, server.Servers):

    client_credentials   bare HTTP/1.1 client, interleaved with the same request to
                         oidc-provider (resource indicator of the same algorithm)
    authorization_code   benchmarks/exchange.py (codes issued beforehand from the core)
    refresh_token        benchmarks/grants.py (families started beforehand from the core)
    discovery, JWKS      on the default algorithm's server, interleaved with oidc-provider's

Then `gatepass serve --workers W` for each W of the mode beyond 1: client_credentials alone,
which is the 1 -> N processes scaling figure.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from gatepass.benchmarks import exchange, grants, peers
from gatepass.benchmarks.environment import Stack
from gatepass.benchmarks.server import Server, Servers, Spec
from gatepass.benchmarks.tokens import Timing
from gatepass.benchmarks.workload import Throughput
from gatepass.oauth.clients import AUTHORIZATION_CODE, CLIENT_CREDENTIALS, REFRESH_TOKEN

DEFAULT_ALG = grants.DEFAULT_ALG


@dataclass(frozen=True)
class Peer:
    """oidc-provider running on `port`, or why it is not (`unavailable`)."""

    port: int | None
    unavailable: str | None
    authorization: str = ""


@dataclass(frozen=True)
class Plan:
    algorithms: tuple[str, ...]  # one server start each
    user_grants: tuple[str, ...]  # algorithms that also run authorization_code, refresh_token
    levels: list[int]  # concurrency of the httpx grants
    concurrency: int  # of the bare-client comparisons
    timing: Timing  # seconds per case, warm-up, interleaved turns
    workers: tuple[int, ...]  # process counts for the scaling figure
    peer_warmup: float = 0.0  # seconds of warm-up of oidc-provider, at least (peers.compare)


async def _client_credentials(
    server: Server, authorization: str, peer: Peer, plan: Plan
) -> dict[str, Any]:
    port = _port(server)
    targets = [(port, peers.token_request(port, authorization, None))]
    if peer.port is not None:
        resource = peers.RESOURCE.format(alg=server.access_token_alg)
        targets.append((peer.port, peers.token_request(peer.port, peer.authorization, resource)))
    run = await peers.compare(
        targets, peers.token_ok, plan.concurrency, plan.timing, plan.peer_warmup
    )
    return _pair(run.results)


async def _static(server: Server, peer: Peer, plan: Plan) -> dict[str, Any]:
    port, out = _port(server), {}
    theirs = {"discovery": "/.well-known/openid-configuration", "jwks": "/jwks"}
    ours = {"discovery": "/.well-known/openid-configuration", "jwks": "/jwks.json"}
    for name in ("discovery", "jwks"):
        targets = [(port, peers.get_request(port, ours[name]))]
        if peer.port is not None:
            targets.append((peer.port, peers.get_request(peer.port, theirs[name])))
        run = await peers.compare(
            targets, peers.json_ok, plan.concurrency, plan.timing, plan.peer_warmup
        )
        out[name] = _pair(run.results)
    return out


def _pair(results: list[Throughput]) -> dict[str, Any]:
    return {"gatepass": results[0], "peer": results[1] if len(results) > 1 else None}


def _port(server: Server) -> int:
    return int(server.url.rsplit(":", 1)[1])


async def _user_grants(
    stack: Stack, server: Server, app: tuple[Any, str], plan: Plan
) -> dict[str, Any]:
    seconds, warmup = plan.timing.seconds, plan.timing.warmup
    code = await exchange.exchange_rates(stack, server, plan.levels, seconds, warmup)
    refresh = await grants.refresh_rates(stack, server, app, plan.levels, seconds, warmup)
    refresh["baseline"] = grants.baseline(refresh, code)
    return {AUTHORIZATION_CODE: code, REFRESH_TOKEN: refresh}


def server_specs(stack: Stack, plan: Plan) -> list[Spec]:
    """The servers `token_endpoint` runs on: one per algorithm, then each worker count > 1."""
    specs = [
        Spec(replace(stack.settings, access_token_alg=alg), f"{stack.name}-{alg}")
        for alg in plan.algorithms
    ]
    return specs + [Spec(stack.settings, f"workers-{w}", w) for w in plan.workers if w > 1]


async def token_endpoint(
    stack: Stack,
    servers: Servers,
    plan: Plan,
    peer: Peer,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """{alg: {grant: figures}}, "static": discovery and JWKS, "workers": {W: throughput};
    on the servers of `server_specs` (started by `servers` beforehand, or now)."""
    machine, app = await grants.machine_client(stack), await grants.app_client(stack)
    out: dict[str, Any] = {"algorithms": {}, "static": None, "workers": {}}
    for spec in server_specs(stack, plan):
        async with servers.serve(spec) as server:
            if spec.workers > 1:
                progress(f"client_credentials on gatepass serve --workers {spec.workers}")
                none = Peer(None, "not compared")
                figures = await _client_credentials(server, machine[1], none, plan)
                out["workers"][spec.workers] = figures["gatepass"]
                continue
            alg = spec.settings.access_token_alg
            progress(f"token endpoint on {stack.name}, {alg}: client_credentials")
            entry = {CLIENT_CREDENTIALS: await _client_credentials(server, machine[1], peer, plan)}
            if alg in plan.user_grants:
                progress(f"token endpoint on {stack.name}, {alg}: code exchange, refresh")
                entry |= await _user_grants(stack, server, app, plan)
            if alg == DEFAULT_ALG:
                progress("discovery and JWKS")
                out["static"] = await _static(server, peer, plan)
                out["workers"][1] = entry[CLIENT_CREDENTIALS]["gatepass"]
            out["algorithms"][alg] = entry
    return out

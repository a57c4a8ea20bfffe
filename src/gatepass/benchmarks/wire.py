"""What crosses the wire on every request: the session cookie beside an access token.

The cookie is what a browser sends back after a login (`Cookie: __Host-gp_session=...`,
the name on an https issuer); the token is what an API client sends (`Authorization:
Bearer ...`), issued by `AccessTokens` with the claims of a code exchange (ids only: sub,
client_id, gid, scope, auth_time, RFC 9068's iss, aud, exp, iat, jti), per algorithm, and
the id token the same exchange returns (nonce, sid, at_hash), which is sent once.
"""

from dataclasses import replace
from pathlib import Path
from typing import Any

from gatepass.benchmarks.environment import ADDRESS, USER_AGENT, Stack
from gatepass.benchmarks.tokens import Grant, _access, _id_token, key_ring
from gatepass.clock import SystemClock
from gatepass.crypto.keys import ALGORITHMS
from gatepass.sessions.policy import CookiePolicy
from gatepass.web.app import build_access_tokens, build_id_tokens


def cookie_name() -> str:
    return CookiePolicy(secure=True, same_site="lax").session_name


async def sizes(stack: Stack, workdir: Path) -> dict[str, Any]:
    """Bytes of each request header line (name, value, CRLF) and of the bare values."""
    started = await stack.manager.start(stack.user_ids[0], ADDRESS, USER_AGENT)
    cookie = f"Cookie: {cookie_name()}={started.secret}\r\n"
    out: dict[str, Any] = {
        "cookie_header": len(cookie),
        "cookie_value": len(started.secret),
        "access_token_header": {},
        "access_token": {},
        "id_token": {},
    }
    grant, clock = Grant.new(), SystemClock()
    async with key_ring(workdir) as (settings, ring):
        for alg in ALGORITHMS:
            per_alg = replace(settings, access_token_alg=alg)
            access = await _access(build_access_tokens(per_alg, ring, clock), grant)
            id_tokens = build_id_tokens(per_alg, ring, clock)
            id_token = await _id_token(id_tokens, grant, alg, access.token)
            out["access_token_header"][alg] = len(f"Authorization: Bearer {access.token}\r\n")
            out["access_token"][alg] = len(access.token)
            out["id_token"][alg] = len(id_token)
    return out

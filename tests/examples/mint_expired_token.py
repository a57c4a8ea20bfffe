"""Print an access token that gatepass's own key signed AGE_SECONDS ago (long expired).

An expired token from the real /token would take the shortest lifetime (60 s) plus the
verifier's leeway (30 s) of waiting; signing one with gatepass's own code and active key,
on a clock an hour behind, gives the very token gatepass would have issued then. Run with
the live server's environment and working directory (which hold its master key):

    python mint_expired_token.py AGE_SECONDS SUBJECT CLIENT_ID SCOPE...

(AGE_SECONDS 0 mints a fresh one: the control that shows the old one fails for its age.)
"""

import asyncio
import sys

from gatepass.clock import FixedClock, SystemClock
from gatepass.config import load_settings
from gatepass.storage.backends import open_backends
from gatepass.web.app import build_access_tokens, build_key_ring


async def mint(age_seconds: int, subject: str, client_id: str, scope: list[str]) -> str:
    settings = load_settings()
    backends = await open_backends(settings)
    try:
        keys = build_key_ring(settings, backends, SystemClock())
        past = FixedClock(SystemClock().now() - age_seconds)
        issued = await build_access_tokens(settings, keys, past).issue(
            subject=subject, client_id=client_id, scope=scope
        )
        return issued.token
    finally:
        await backends.close()


if __name__ == "__main__":
    print(asyncio.run(mint(int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:])))

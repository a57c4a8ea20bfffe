"""/jwks.json while the signing-key store is down: a 503 page with Retry-After, never a 500
(SECURITY.md decision 3; docs/openapi.yaml documents 503 for it).

The JWKS is answered ahead of the router (middleware/static_documents.py), outside the
exception handlers that turn a store outage into a 503. While the key ring's snapshot is
fresh no store is asked; once it is stale, the ring reloads it from the store.
"""

import httpx

from gatepass.clock import FixedClock
from gatepass.config import Settings
from gatepass.storage.backends import Backends
from gatepass.storage.sql.engine import create_engine
from gatepass.storage.sql.signing_keys import SqlSigningKeyStore
from gatepass.web.app import create_app
from tests.web.conftest import assert_clean_error

NOWHERE = "127.0.0.1:1"  # nothing listens on port 1


async def test_a_stale_jwks_with_its_store_down_is_a_503_not_a_500__security_decision_3(
    settings: Settings, backends: Backends, clock: FixedClock
) -> None:
    app = create_app(settings, backends=backends, clock=clock)
    # A real server answers what the app sends; the transport must not re-raise instead.
    transport = httpx.ASGITransport(
        app=app, client=("127.0.0.1", 50000), raise_app_exceptions=False
    )
    dead = create_engine(f"postgresql://gatepass@{NOWHERE}/gatepass")
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=settings.issuer) as client,
    ):
        assert (await client.get("/jwks.json")).status_code == 200
        ring = app.state.gatepass.keys
        # The ring's store goes away (a real store on an address nothing answers)...
        ring._store = SqlSigningKeyStore(dead)
        # ...and its snapshot goes stale: the next answer needs the store.
        clock.advance(ring.policy.refresh_seconds + 1)
        for method in ("GET", "HEAD"):
            answer = await client.request(method, "/jwks.json")
            assert_clean_error(answer, 503)
            assert int(answer.headers["retry-after"]) > 0
    await dead.dispose()

"""The webapp example (examples/webapp/) as a real subprocess, registered at a live gatepass.

Registered and started as its README says (`gatepass client create ...`, then
`python examples/webapp/app.py` with the environment variables the README names).
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.examples.processes import running_example
from tests.live_server import LiveServer, free_port


@dataclass(frozen=True)
class RunningWebapp:
    url: str  # as the browser reaches it: http://127.0.0.1:PORT (or http://localhost:PORT)
    client_id: str


def register_webapp(gatepass: LiveServer, url: str, name: str = "Webapp") -> tuple[str, str]:
    """A confidential client with the webapp's callback and post-logout URIs, as the
    README registers it. Its (client_id, client_secret)."""
    uris = ["--redirect-uri", f"{url}/callback", "--post-logout-redirect-uri", f"{url}/"]
    scopes = ["--scope", "openid", "--scope", "profile", "--scope", "email"]
    created = json.loads(gatepass.cli("client", "create", name, *uris, *scopes, "--json"))
    return created["client_id"], created["client_secret"]


@contextmanager
def running_webapp(gatepass: LiveServer, host: str = "127.0.0.1") -> Iterator[RunningWebapp]:
    """Register the webapp at `gatepass` and run it on a free port until the end. `host`
    is the loopback name the browser uses (the app listens on 127.0.0.1 either way)."""
    port = free_port()
    url = f"http://{host}:{port}"
    client_id, secret = register_webapp(gatepass, url)
    env = {
        "GATEPASS_ISSUER": gatepass.url,
        "WEBAPP_CLIENT_ID": client_id,
        "WEBAPP_CLIENT_SECRET": secret,
        "WEBAPP_URL": url,
    }
    with running_example("webapp", env, port):
        yield RunningWebapp(url=url, client_id=client_id)

"""oidc-provider (npm) as a real upstream OpenID provider: tests/federation/node/provider.mjs.

The package is pinned in node/package.json and node/package-lock.json; `install()` copies
the three files to a scratch directory and runs `npm ci` there, so no node_modules ever
lands in the checkout. `running()` starts one provider on a loopback port with the clients
and accounts a test declares; `sign_in()` walks its built-in login and consent pages
(oidc-provider's devInteractions: any login and any password sign in, and the login
becomes the `sub`) the way a browser would.

The issuer is plain http on 127.0.0.1: oidc-provider 9 serves that as it is (`proxy` stays
false; its cookies lose `secure`). NODE_ENV and DEBUG are dropped from node's environment
so a developer's settings change neither koa's error handling nor the log volume.
"""

import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).parent / "node"
FILES = ("package.json", "package-lock.json", "provider.mjs")
INSTALL_SECONDS = 300
STARTUP_SECONDS = 30.0
STOP_SECONDS = 10.0
MAX_STEPS = 12  # authorize, login, resume, consent, resume: about eight hops


@dataclass(frozen=True)
class OidcClient:
    """A client registered with the upstream provider (gatepass, when it signs in there)."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    token_endpoint_auth_method: str = "client_secret_basic"


@dataclass(frozen=True)
class OidcAccount:
    """The claims the upstream provider holds for one `sub` (the login typed on its page)."""

    email: str
    email_verified: bool
    name: str


@dataclass(frozen=True)
class InstalledProvider:
    directory: Path


def install(directory: Path) -> InstalledProvider:
    """The pinned oidc-provider installed in `directory` (`npm ci`: exactly the lock)."""
    for tool in ("node", "npm"):
        assert shutil.which(tool), f"{tool} is missing (it ships with the machine image)"
    for name in FILES:
        shutil.copy(HERE / name, directory / name)
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=INSTALL_SECONDS,
        check=False,
    )
    assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    return InstalledProvider(directory)


def provider_config(
    clients: Sequence[OidcClient],
    accounts: Mapping[str, OidcAccount],
    jwks: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON provider.mjs reads on stdin."""
    config: dict[str, Any] = {
        "clients": [asdict(client) for client in clients],
        "accounts": {sub: asdict(account) for sub, account in accounts.items()},
    }
    if jwks is not None:
        config["jwks"] = dict(jwks)
    return config


@contextmanager
def running(
    installed: InstalledProvider,
    port: int,
    clients: Sequence[OidcClient],
    accounts: Mapping[str, OidcAccount],
    *,
    jwks: Mapping[str, Any] | None = None,
) -> Iterator[str]:
    """Run oidc-provider on 127.0.0.1:`port` until the block ends; yields its issuer URL.

    `jwks` (private JWKs) pins the signing keys; by default the provider signs with a
    fresh RS256 key of its own.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("NODE_ENV", "DEBUG")}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            ["node", "provider.mjs", str(port)],
            cwd=installed.directory,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
        )
        try:
            assert process.stdin is not None
            process.stdin.write(json.dumps(provider_config(clients, accounts, jwks)).encode())
            process.stdin.close()
            yield _wait_until_ready(process, log)
        finally:
            _stop(process)


def _wait_until_ready(process: subprocess.Popen[bytes], log: Any) -> str:
    """The issuer from provider.mjs's one stdout line, printed once it listens."""
    assert process.stdout is not None
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        readable, _, _ = select.select([process.stdout], [], [], 0.1)
        if readable:
            line = process.stdout.readline()
            if line:
                issuer: str = json.loads(line)["issuer"]
                return issuer
        if process.poll() is not None:
            break
    log.seek(0)
    stderr = log.read().decode(errors="replace")
    raise RuntimeError(f"oidc-provider did not start (exit {process.poll()}):\n{stderr}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_SECONDS)
    if process.stdout is not None:
        process.stdout.close()


@dataclass
class _Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class _PageReader(HTMLParser):
    """The forms and links of an oidc-provider interaction page (its markup has no
    <main>, so tests/interop/user_agent.py's reader does not fit)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[_Form] = []
        self.links: list[str] = []
        self._form: _Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._form = _Form(attr.get("action", ""), attr.get("method", "get").lower())
        elif tag == "input" and self._form is not None and "name" in attr:
            self._form.fields[attr["name"]] = attr.get("value", "")
        elif tag == "a" and "href" in attr:
            self.links.append(attr["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


def _read(page: httpx.Response) -> _PageReader:
    reader = _PageReader()
    reader.feed(page.text)
    reader.close()
    return reader


async def sign_in(
    client: httpx.AsyncClient, authorization_url: str, login: str, *, consent: bool = True
) -> str:
    """Open `authorization_url` at oidc-provider as a browser would and return the URL of
    the redirect that leaves the provider for the relying party (not requested).

    On the login page it types `login` (the `sub`) and a password; on the consent page
    it clicks "Continue", or "[ Cancel ]" when `consent` is False, which sends the user
    back with error=access_denied. A browser that already holds a session at the
    provider meets no login page (oidc-provider remembers the earlier sign-in and grant):
    use a fresh `client` per upstream user. `client` must not follow redirects.
    """
    provider = httpx.URL(authorization_url)
    response = await client.get(authorization_url)
    for _ in range(MAX_STEPS):
        if response.is_redirect:
            target = response.url.join(response.headers["location"])
            if (target.scheme, target.host, target.port) != (
                provider.scheme,
                provider.host,
                provider.port,
            ):
                return str(target)
            response = await client.get(target)
            continue
        assert response.status_code == 200, (
            f"oidc-provider answered {response.status_code} at {response.url}:\n{response.text}"
        )
        response = await _interact(client, response, login, consent=consent)
    raise AssertionError(f"oidc-provider did not send the browser back after {MAX_STEPS} steps")


async def _interact(
    client: httpx.AsyncClient, page: httpx.Response, login: str, *, consent: bool
) -> httpx.Response:
    """One interaction page: the login form, or the consent form (or its Cancel link)."""
    reader = _read(page)
    form = next((f for f in reader.forms if f.method == "post" and "prompt" in f.fields), None)
    assert form is not None, f"not an oidc-provider interaction page:\n{page.text}"
    prompt = form.fields["prompt"]
    if prompt == "login":
        values = form.fields | {"login": login, "password": "any password works here"}
        return await client.post(page.url.join(form.action), data=values)
    assert prompt == "consent", f"unexpected prompt {prompt!r}"
    if consent:
        return await client.post(page.url.join(form.action), data=form.fields)
    abort = next(link for link in reader.links if link.endswith("/abort"))
    return await client.get(page.url.join(abort))

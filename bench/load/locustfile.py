"""The load's virtual users (locust). Run only by bench/load/run.py, in a locust process of
its own: locust patches the standard library with gevent on import.

    Person  (people of the app, one seeded identity each, requests alternating between
             the two servers as a round-robin balancer without sticky sessions would):
        4  GET  /account          session cookie ─► 200, the page shows their e-mail
        6  GET  api /whoami       Bearer access token ─► 200, the API names their sub
                                  and the very token's jti
        1  POST /token            refresh_token (their own family) ─► 200, a new refresh
                                  token, which the next rotation presents (strict window:
                                  presenting any other revokes the family)
    Service (a machine client, fixed count):
        1  POST /token            client_credentials ─► 200, a new access token
        5  GET  api /whoami       Bearer service token ─► 200, the API names the client

Configuration, from run.py: LOAD_FIXTURES (the set-up's JSON), LOAD_CHECKS (where the
chained-rotation counters go at the end), LOAD_WAIT ("min,max" seconds between tasks),
LOAD_SERVICES (how many Service users).
"""

import base64
import json
import os
from collections import Counter
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from locust import FastHttpUser, between, events, task
from locust.exception import StopUser

FIXTURES: dict[str, Any] = json.loads(Path(os.environ["LOAD_FIXTURES"]).read_text())
SERVERS: list[str] = FIXTURES["servers"]
API: str = FIXTURES["api"]
WAIT_MIN, WAIT_MAX = (float(part) for part in os.environ.get("LOAD_WAIT", "0.5,1.5").split(","))
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# What a status code alone cannot show, counted for the runner and the test.
CHECKS: Counter[str] = Counter()
_people = iter(FIXTURES["people"])


def claims(token: str) -> dict[str, Any]:
    """A JWT's payload, unverified: which `sub` and `jti` the API must name back."""
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def basic(client: dict[str, str]) -> str:
    return "Basic " + base64.b64encode(f"{client['id']}:{client['secret']}".encode()).decode()


class Balanced(FastHttpUser):
    """A user whose requests go to the two servers in turn."""

    abstract = True
    host = SERVERS[0]
    wait_time = between(WAIT_MIN, WAIT_MAX)

    def on_start(self) -> None:
        self.turns = count()

    def server(self) -> str:
        return SERVERS[next(self.turns) % len(SERVERS)]

    def call_api(self, name: str, token: str, expected: dict[str, str]) -> bool:
        """GET /whoami with `token`: the API must accept it and name these claims."""
        headers = {"Authorization": f"Bearer {token}"}
        with self.client.get(f"{API}/whoami", name=name, headers=headers, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}: {r.text[:200]}")
                return False
            seen = r.json()
            wrong = {k: (seen.get(k), v) for k, v in expected.items() if seen.get(k) != v}
            if wrong:
                r.failure(f"the API verified another token: {wrong}")
                return False
            r.success()
            return True


class Person(Balanced):
    """Someone signed in to the app: pages on the identity server, calls to the API."""

    def on_start(self) -> None:
        super().on_start()
        person = next(_people, None)
        if person is None:
            raise StopUser  # more users than seeded people: the runner seeds one each
        self.me: dict[str, str] = person
        self.app: dict[str, str] = FIXTURES["app"]
        self.rotated = False  # whether the refresh token in hand came from a rotation

    @task(4)
    def view_account(self) -> None:
        headers = {"Cookie": f"{FIXTURES['session_cookie']}={self.me['cookie']}"}
        with self.client.get(
            f"{self.server()}/account",
            name="page: /account (session)",
            headers=headers,
            allow_redirects=False,
            catch_response=True,
        ) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}: the session was not recognised")
            elif self.me["email"] not in r.text:
                r.failure("the account page is someone else's")
            else:
                r.success()

    @task(6)
    def call_api_as_person(self) -> None:
        token = self.me["access_token"]
        if self.call_api("api: user token", token, self._expected(token)) and self.rotated:
            CHECKS["api accepted a rotated access token"] += 1

    @task(1)
    def rotate(self) -> None:
        presented = self.me["refresh_token"]
        form = {"grant_type": "refresh_token", "refresh_token": presented}
        with self.client.post(
            f"{self.server()}/token",
            name="token: refresh_token",
            data=urlencode(form),
            headers=FORM | {"Authorization": basic(self.app)},
            catch_response=True,
        ) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}: {r.text[:200]}")
                return
            body = r.json()
            if body.get("refresh_token") in (None, presented) or "access_token" not in body:
                r.failure(f"no rotation: {sorted(body)}")
                return
            r.success()
        if self.rotated:
            # The token just accepted was the successor the previous rotation returned.
            CHECKS["rotation presented the previous successor"] += 1
        self.me = self.me | {
            "refresh_token": body["refresh_token"],
            "access_token": body["access_token"],
        }
        self.rotated = True

    def _expected(self, token: str) -> dict[str, str]:
        return {"sub": self.me["sub"], "client_id": self.app["id"], "jti": claims(token)["jti"]}


class Service(Balanced):
    """A machine client: a token by client_credentials now and then, API calls with it."""

    fixed_count = int(os.environ.get("LOAD_SERVICES", "1"))

    def on_start(self) -> None:
        super().on_start()
        self.service: dict[str, str] = FIXTURES["service"]
        self.token: str | None = None
        self.fetch_token()

    @task(1)
    def fetch_token(self) -> None:
        form = {"grant_type": "client_credentials", "scope": FIXTURES["scope"]}
        with self.client.post(
            f"{self.server()}/token",
            name="token: client_credentials",
            data=urlencode(form),
            headers=FORM | {"Authorization": basic(self.service)},
            catch_response=True,
        ) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}: {r.text[:200]}")
                return
            body = r.json()
            if "access_token" not in body or "refresh_token" in body:
                r.failure(f"not a client_credentials answer: {sorted(body)}")
                return
            r.success()
        self.token = body["access_token"]

    @task(5)
    def call_api_as_service(self) -> None:
        if self.token is None:
            return
        jti = claims(self.token)["jti"]
        expected = {"client_id": self.service["id"], "jti": jti}
        self.call_api("api: service token", self.token, expected)


@events.quitting.add_listener
def write_checks(**_: Any) -> None:
    Path(os.environ["LOAD_CHECKS"]).write_text(json.dumps(dict(CHECKS)))

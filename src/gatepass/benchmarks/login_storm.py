"""The login storm of under_load.py, in a process of its own:

    python -m gatepass.benchmarks.login_storm URL TASKS SECONDS PASSWORD EMAIL...

TASKS login tasks, back to back for SECONDS: GET /login, POST /login with the right
password, as a browser does. Prints "started" once they run, then its tally as JSON. It
imports httpx and the standard library only, so that it starts in a fraction of a second
rather than after the server's imports.
"""

import asyncio
import json
import re
import sys
import time
from typing import Any

import httpx

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _login(http: httpx.AsyncClient, email: str, password: str) -> bool:
    """One password login through the HTML form, as a browser does: True if signed in."""
    http.cookies.clear()
    page = await http.get("/login")
    found = _CSRF.search(page.text)
    if found is None:
        return False
    form = {"csrf_token": found.group(1), "email": email, "password": password, "next": "/"}
    answer = await http.post("/login", data=form)
    return answer.status_code == 303


class _Logins:
    """Login tasks that run until stopped, counting successes and failures."""

    def __init__(self, url: str, password: str, emails: list[str], tasks: int) -> None:
        self.ok = self.failed = 0
        self._url, self._password, self._emails, self._tasks = url, password, emails, tasks
        self._stop = asyncio.Event()
        self._running: list[asyncio.Task[None]] = []

    async def _loop(self, index: int) -> None:
        async with httpx.AsyncClient(base_url=self._url, trust_env=False, timeout=30) as http:
            n = index
            while not self._stop.is_set():
                try:
                    email = self._emails[n % len(self._emails)]
                    signed_in = await _login(http, email, self._password)
                except httpx.HTTPError:
                    signed_in = False
                if signed_in:
                    self.ok += 1
                else:
                    self.failed += 1
                n += self._tasks

    def start(self) -> None:
        self._running = [asyncio.create_task(self._loop(i)) for i in range(self._tasks)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._running)


async def _storm(
    url: str, password: str, emails: list[str], tasks: int, seconds: float
) -> dict[str, Any]:
    logins = _Logins(url, password, emails, tasks)
    began = time.perf_counter()
    logins.start()
    print("started", flush=True)  # the parent waits for this line
    await asyncio.sleep(seconds)
    await logins.stop()
    return {"ok": logins.ok, "failed": logins.failed, "seconds": time.perf_counter() - began}


def main() -> None:
    url, tasks, seconds, password, *emails = sys.argv[1:]
    print(json.dumps(asyncio.run(_storm(url, password, emails, int(tasks), float(seconds)))))


if __name__ == "__main__":
    main()

"""The user agent: an httpx client with a cookie jar that reads pages and submits their
forms as a browser would, following redirects one at a time until one leaves for the
relying party.

Forms are read from the page's <main> (the header's "Log out" form is not the page's
business) by an HTML parser, not by regular expressions on one template's markup.
"""

from dataclasses import dataclass
from html.parser import HTMLParser

import httpx

MAX_STEPS = 12  # login, consent and their redirects take about six


@dataclass(frozen=True)
class HtmlForm:
    action: str
    method: str
    fields: dict[str, str]  # every named <input>, with its value ("" when none)
    buttons: list[tuple[str, str]]  # named submit buttons: (name, value)


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[HtmlForm] = []
        self._in_main = 0
        self._current: HtmlForm | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        if tag == "main":
            self._in_main += 1
        elif tag == "form" and self._in_main:
            self._current = HtmlForm(attr.get("action", ""), attr.get("method", "get"), {}, [])
        elif self._current is not None and "name" in attr:
            kind = attr.get("type", "submit" if tag == "button" else "text")
            if tag == "button" or kind == "submit":
                self._current.buttons.append((attr["name"], attr.get("value", "")))
            elif tag == "input":
                self._current.fields[attr["name"]] = attr.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self._in_main -= 1
        elif tag == "form" and self._current is not None:
            self.forms.append(self._current)
            self._current = None


def forms_of(html: str) -> list[HtmlForm]:
    reader = _FormReader()
    reader.feed(html)
    reader.close()
    return reader.forms


def form_posting_to(page: httpx.Response, path: str) -> HtmlForm | None:
    """The page's form whose action is `path` (relative to the page), if it has one."""
    for form in forms_of(page.text):
        target = page.url.join(form.action or page.url.path)
        if target.path == path and form.method.lower() == "post":
            return form
    return None


async def submit(
    browser: httpx.AsyncClient,
    page: httpx.Response,
    form: HtmlForm,
    values: dict[str, str] | None = None,
    button: tuple[str, str] | None = None,
) -> httpx.Response:
    """POST the form like a browser: its fields, what the user typed, the clicked button,
    and the Origin header browsers send with a form POST."""
    data = {**form.fields, **(values or {})}
    if button is not None:
        assert button in form.buttons, f"no button {button} in {form.buttons}"
        data[button[0]] = button[1]
    origin = f"{page.url.scheme}://{page.url.netloc.decode('ascii')}"
    return await browser.post(page.url.join(form.action), data=data, headers={"Origin": origin})


@dataclass(frozen=True)
class User:
    email: str
    password: str
    name: str


async def visit(
    browser: httpx.AsyncClient,
    url: str,
    *,
    leaving_for: str,
    user: User | None = None,
    decision: str = "allow",
) -> httpx.URL:
    """Open `url` and go where the provider sends the browser: log in as `user` when the
    login page shows, click `decision` on the consent page, until a redirect leaves for
    `leaving_for` (the relying party). Returns that redirect's URL; fails on any other
    page."""
    response = await browser.get(url)
    for _ in range(MAX_STEPS):
        if response.is_redirect:
            target = response.url.join(response.headers["location"])
            if str(target).startswith(leaving_for):
                return target
            response = await browser.get(target)
        elif (form := form_posting_to(response, "/login")) is not None:
            assert user is not None, "the provider asked for a login nobody expected"
            values = {"email": user.email, "password": user.password}
            response = await submit(browser, response, form, values)
        elif (form := form_posting_to(response, "/consent")) is not None:
            response = await submit(browser, response, form, button=("decision", decision))
        else:
            raise AssertionError(
                f"unexpected page {response.url} ({response.status_code}):\n{response.text}"
            )
    raise AssertionError(f"still not back at {leaving_for} after {MAX_STEPS} steps")

"""Where a mailed link lands: its token leaves the URL before any page is shown.

    GET /reset-password?token=T  ─► 303 /reset-password, T sealed in a cookie
                                     (Referrer-Policy: no-referrer, Cache-Control: no-store)
    GET /reset-password          ─► the page, with a button; nothing is used yet
    POST /reset-password         ─► CSRF and Origin checked, the link used (once)

GET never uses a link: mail scanners and link previews fetch every URL in a message.
The token leaves the address bar, the history and any Referer at once; it cannot stay
in the page either, because a page served with `no-referrer` makes the browser send
`Origin: null` on its own form, which the CSRF check refuses. The cookie is sealed
(web/sealed_cookies.py) with the link's purpose as associated data, lives no longer
than the link, and is HttpOnly; SameSite=Lax lets it ride the top-level navigation
that a click in a mail client is.
"""

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from gatepass.accounts.link_store import AccountLink
from gatepass.accounts.links import LIFETIMES_SECONDS, LinkPurpose
from gatepass.web.pages import redirect, render
from gatepass.web.state import Services, services
from gatepass.web.visitor import Visitor, visitor

PRIVATE = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def cookie_name(gp: Services, purpose: LinkPurpose) -> str:
    name = f"gp_link_{purpose.replace('-', '_')}"
    return f"__Host-{name}" if gp.cookies.secure else name


def land(request: Request, gp: Services, purpose: LinkPurpose, path: str) -> Response | None:
    """The redirect that moves a token from the URL into the cookie; None without one."""
    token = request.query_params.get("token")
    if token is None:
        return None
    response = redirect(path)
    response.headers.update(PRIVATE)
    value = gp.cookie_box.seal(purpose, {"t": token[:100]}, LIFETIMES_SECONDS[purpose])
    response.set_cookie(
        cookie_name(gp, purpose),
        value,
        max_age=LIFETIMES_SECONDS[purpose],
        path="/",
        secure=gp.cookies.secure,
        httponly=True,
        samesite="lax",
    )
    return response


def landed_token(request: Request, gp: Services, purpose: LinkPurpose) -> str:
    """The token of the link that landed here ("" when none did, or its cookie expired)."""
    opened = gp.cookie_box.open(purpose, request.cookies.get(cookie_name(gp, purpose), ""))
    token = opened.get("t") if opened is not None else None
    return token if isinstance(token, str) else ""


def forget(response: Response, gp: Services, purpose: LinkPurpose) -> Response:
    response.delete_cookie(
        cookie_name(gp, purpose), path="/", secure=gp.cookies.secure, httponly=True, samesite="lax"
    )
    return response


def invalid_link(request: Request, who: Visitor, again_href: str, again_label: str) -> Response:
    """The one answer for a used, expired, wrong-purpose, unbound or garbage link: 400."""
    page = {
        "title": "This link does not work",
        "message": "The link was used already, has expired, or is not complete. "
        "Links in our messages work once, for a limited time.",
        "alert": True,
        "next_href": again_href,
        "next_label": again_label,
    }
    return render(request, "message.html", who, page, status_code=400, headers=PRIVATE)


def message_page(
    request: Request,
    who: Visitor,
    title: str,
    message: str,
    *,
    status_code: int = 200,
    next_href: str = "/account",
    next_label: str = "Your account",
) -> Response:
    page = {"title": title, "message": message, "alert": status_code >= 400}
    page |= {"next_href": next_href, "next_label": next_label}
    return render(request, "message.html", who, page, status_code=status_code, headers=PRIVATE)


async def confirm_page(
    request: Request,
    purpose: LinkPurpose,
    path: str,
    wording: Callable[[AccountLink], dict[str, str]],
    invalid: Callable[[Request, Visitor], Response],
) -> Response:
    """The page a landed link shows: what its button will do (`wording`: title, message,
    button), or `invalid`'s page. The link is looked at, not used: the POST uses it."""
    gp = services(request)
    landing = land(request, gp, purpose, path)
    if landing is not None:
        return landing
    who = await visitor(request)
    link = await gp.lifecycle.links.find(purpose, landed_token(request, gp, purpose))
    if link is None:
        return invalid(request, who)
    page = {**wording(link), "action": path}
    return render(request, "link_confirm.html", who, page)

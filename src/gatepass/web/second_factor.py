"""A sign-in waiting for its second factor (NIST 800-63B §4.2, ASVS V6.3; docs/mfa.md).

The first factor (a password, an upstream login) does not start a session when a second
one is due: `finish_first_factor` seals who signed in, how (`amr`, `idp`) and where to go
next into a short-lived cookie and sends the browser to `/login/verify` (or, when MFA is
required of a user who has no factor yet, to `/login/enrol`). Whichever factor then
proves itself (a TOTP code, a recovery code, a passkey) calls `complete_second_factor`,
which starts a brand-new session with amr = first amr + factor amr + ("mfa",) (RFC 8176).

A signed-in single-factor user whom a client asks for more (`acr_values`, or the client's
`require_mfa`) is sent the same way by `step_up`: the pending state carries the session's
own amr and idp, and completing it replaces the session (a new ID, ASVS 7.2.4).

Nothing lives in process memory (web/sealed_cookies.py): any process finishes what
another started. The cookie is HttpOnly, SameSite=Lax (an upstream callback arrives by
a cross-site redirect and may set it), and expires after PENDING_SECONDS.
"""

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gatepass.accounts.model import User
from gatepass.audit.model import AuditEventType as Event
from gatepass.oidc.acr import MFA_AMR
from gatepass.web.errors import BadRequest
from gatepass.web.pages import redirect, safe_next
from gatepass.web.recent_auth import require_recent_auth
from gatepass.web.sealed_cookies import CookieTooLarge
from gatepass.web.state import Services
from gatepass.web.visitor import Member, Visitor, set_session_cookie, visitor

PENDING = "second-factor"  # sealed-cookie purpose
PENDING_SECONDS = 300  # long enough to find the phone, short enough to be worthless later
VERIFY_PATH = "/login/verify"
ENROL_PATH = "/login/enrol"
EXPIRED = "Your sign-in took too long or was interrupted. Please sign in again."
TOO_LONG = "This sign-in request is too long. Go back to the application and try again."


@dataclass(frozen=True)
class PendingSignIn:
    """A first factor that proved itself, waiting for the second."""

    user_id: str
    amr: tuple[str, ...]  # the first factor's methods (or the session's, when stepping up)
    idp: str | None
    next: str  # a local path (safe_next)
    event: str  # the AuditEventType value to record once the session starts
    detail: str | None = None  # that event's detail (the provider's name upstream)
    enrol: bool = False  # MFA is required and the user has no factor: enrol first
    # A step-up: the session being stepped up, which must still be the browser's (a
    # session ended meanwhile, e.g. by "log out everywhere", cannot be revived).
    session_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "amr": list(self.amr),
            "idp": self.idp,
            "next": self.next,
            "event": self.event,
            "detail": self.detail,
            "enrol": self.enrol,
            "session_id": self.session_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PendingSignIn | None":
        try:
            amr = tuple(str(m) for m in data["amr"])
            Event(data["event"])  # refuses a value that is no event
            return cls(
                user_id=str(data["user_id"]),
                amr=amr,
                idp=None if data["idp"] is None else str(data["idp"]),
                next=safe_next(data["next"]),
                event=str(data["event"]),
                detail=None if data["detail"] is None else str(data["detail"]),
                enrol=bool(data["enrol"]),
                session_id=None if data.get("session_id") is None else str(data["session_id"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


def pending_cookie_name(gp: Services) -> str:
    return "__Host-gp_mfa" if gp.cookies.secure else "gp_mfa"


async def second_factor_due(gp: Services, user: User) -> str | None:
    """VERIFY_PATH when the user has a factor, ENROL_PATH when MFA is required of them and
    they have none, else None (a single-factor session is enough)."""
    if await gp.mfa.has_factor(user.id):
        return VERIFY_PATH
    if gp.settings.mfa_required:
        return ENROL_PATH
    return None


async def finish_first_factor(
    request: Request,
    gp: Services,
    who: Visitor,
    user: User,
    event: Event,
    next_path: str,
    *,
    amr: tuple[str, ...],
    idp: str | None = None,
    detail: str | None = None,
) -> Response:
    """After a first factor: the session, or the way to the second factor."""
    due = await second_factor_due(gp, user)
    if due is None:
        return await start_session(request, gp, who, user.id, amr, idp, next_path, event, detail)
    pending = PendingSignIn(user.id, amr, idp, next_path, event.value, detail, due == ENROL_PATH)
    return await _park(request, gp, who, pending, due)


async def step_up(request: Request, gp: Services, member: Member, next_path: str) -> Response:
    """A signed-in user asked for a second factor the session lacks (acr_values,
    require_mfa): the session stays until the factor proves itself, then is replaced."""
    has_factor = await gp.mfa.has_factor(member.user.id)
    session = member.session
    if not has_factor:
        # Enrolling a factor is a sensitive change (ASVS 7.5.1): a session alone (a
        # stolen cookie, say) must not add one, so an old sign-in confirms first.
        confirm_first = require_recent_auth(gp, session, next_path)
        if confirm_first is not None:
            return confirm_first
    pending = PendingSignIn(
        member.user.id, session.amr, session.idp, next_path, Event.LOGIN_SUCCEEDED.value,
        "step-up", enrol=not has_factor, session_id=session.id,
    )  # fmt: skip
    return await _park(request, gp, None, pending, VERIFY_PATH if has_factor else ENROL_PATH)


async def _park(
    request: Request, gp: Services, who: Visitor | None, pending: PendingSignIn, path: str
) -> Response:
    # A session the browser brought is ended at once for a new sign-in (fixation); a
    # step-up (who=None) keeps it until the second factor replaces it.
    try:
        sealed = gp.cookie_box.seal(PENDING, pending.as_json(), PENDING_SECONDS)
    except CookieTooLarge:  # `next` is an /authorize URL too long to ride in a cookie
        raise BadRequest(TOO_LONG) from None
    if who is not None and who.secret is not None:
        await gp.sessions.end(who.secret)
    response = redirect(path)
    response.set_cookie(
        pending_cookie_name(gp),
        sealed,
        max_age=PENDING_SECONDS,
        path="/",
        secure=gp.cookies.secure,
        httponly=True,
        samesite="lax",
    )
    return response


async def pending_sign_in(request: Request, gp: Services) -> tuple[PendingSignIn, User] | None:
    """The sign-in waiting for a second factor, with its user; None when there is none,
    it expired, was forged, a step-up's session ended, or the user meanwhile was disabled
    or deleted."""
    data = gp.cookie_box.open(PENDING, request.cookies.get(pending_cookie_name(gp), ""))
    pending = PendingSignIn.from_json(data) if data is not None else None
    if pending is None:
        return None
    if pending.session_id is not None:
        who = await visitor(request)
        if who.session is None or who.session.id != pending.session_id:
            return None
    user = await gp.accounts.get(pending.user_id)
    if user is None or user.disabled:
        return None
    return pending, user


async def complete_second_factor(
    request: Request,
    gp: Services,
    pending: PendingSignIn,
    factor_amr: tuple[str, ...],
    *,
    response: Response | None = None,
) -> Response:
    """The second factor proved itself: a new session, amr = first + factor + ("mfa",).

    `response` (default: a redirect to `pending.next`) is what the browser gets, with
    the session cookie set and the pending cookie cleared (e.g. a page of new recovery
    codes after an enrolment at sign-in)."""
    amr = _merge(pending.amr, factor_amr, (MFA_AMR,))
    current = request.cookies.get(gp.cookies.session_name, "")
    if current:
        await gp.sessions.end(current)  # a step-up replaces the session (new ID)
    return await start_session(
        request, gp, None, pending.user_id, amr, pending.idp, pending.next,
        Event(pending.event), pending.detail, response=response,
    )  # fmt: skip


async def start_session(
    request: Request,
    gp: Services,
    who: Visitor | None,
    user_id: str,
    amr: tuple[str, ...],
    idp: str | None,
    next_path: str,
    event: Event,
    detail: str | None,
    *,
    response: Response | None = None,
) -> Response:
    """A brand-new session (never reuse one the browser brought: fixation)."""
    if who is not None and who.secret is not None:
        await gp.sessions.end(who.secret)
    started = await gp.sessions.start(
        user_id, gp.address(request), gp.agent(request), amr=amr, idp=idp
    )
    user = await gp.accounts.get(user_id)
    await gp.audit_event(request, event, user=user, detail=detail)
    answer = response if response is not None else redirect(next_path)
    set_session_cookie(answer, gp, started)
    if pending_cookie_name(gp) in request.cookies:
        clear_pending(answer, gp)
    return answer


def clear_pending(response: Response, gp: Services) -> None:
    response.delete_cookie(
        pending_cookie_name(gp), path="/", secure=gp.cookies.secure, httponly=True
    )


def _merge(*parts: tuple[str, ...]) -> tuple[str, ...]:
    """The methods in order, each once (RFC 8176 amr is a set shown as a list)."""
    seen: dict[str, None] = {}
    for part in parts:
        for method in part:
            seen.setdefault(method, None)
    return tuple(seen)

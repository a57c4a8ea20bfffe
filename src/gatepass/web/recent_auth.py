"""Recent authentication before sensitive changes (ASVS 7.5.1, SECURITY.md SS-15).

Changing the e-mail address, the password or a second factor, or deleting the account,
goes ahead only within `reauth_window_seconds` of a sign-in. A session signed in longer
ago is sent to `/account/confirm` first, where the person proves who they are again; that
starts a new session (a new ID, ASVS 7.2.4 "including re-authentication") with the same
sign-in methods, so the window opens anew.

A session's `created_at` is its sign-in time: sessions are never extended into new ones
except by a sign-in, a re-authentication or a password change (which asked for the
password too).
"""

from urllib.parse import quote

from starlette.responses import Response

from gatepass.sessions.model import Session
from gatepass.web.pages import redirect
from gatepass.web.state import Services

CONFIRM_PATH = "/account/confirm"


def is_recent(gp: Services, session: Session) -> bool:
    return gp.clock.now() - session.created_at <= gp.settings.reauth_window_seconds


def confirm_url(next_path: str = "/account") -> str:
    return CONFIRM_PATH + "?next=" + quote(next_path, safe="/")


def require_recent_auth(
    gp: Services, session: Session, next_path: str = "/account"
) -> Response | None:
    """None when the change may go ahead; else the redirect to confirm first (answer it).

    Call it after the CSRF check and before changing anything: the form is not kept, the
    person sends it again after confirming."""
    if is_recent(gp, session):
        return None
    return redirect(confirm_url(next_path))

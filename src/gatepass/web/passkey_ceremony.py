"""A passkey ceremony's challenge between its options and its answer: sealed in a
cookie (web/sealed_cookies.py) under the ceremony's name, so any process finishes what
another began, and a challenge issued for one ceremony never opens at another."""

from starlette.requests import Request
from starlette.responses import Response

from gatepass.mfa.passkey_model import CHALLENGE_TTL_SECONDS, Ceremony, Challenge
from gatepass.web.json_api import ApiError
from gatepass.web.state import Services

COOKIE_NAMES = {
    Ceremony.REGISTER: "gp_passkey_register",
    Ceremony.SIGN_IN: "gp_passkey_sign_in",
    Ceremony.SECOND_FACTOR: "gp_passkey_second_factor",
}
EXPIRED = "The passkey request expired or was interrupted. Please try again."


def cookie_name(gp: Services, ceremony: Ceremony) -> str:
    name = COOKIE_NAMES[ceremony]
    return "__Host-" + name if gp.cookies.secure else name


def hold(response: Response, gp: Services, challenge: Challenge) -> None:
    """Seal the challenge into the response's cookie for its ceremony."""
    sealed = gp.cookie_box.seal(
        challenge.ceremony.value,
        {"challenge": challenge.value, "user_id": challenge.user_id},
        CHALLENGE_TTL_SECONDS,
    )
    response.set_cookie(
        cookie_name(gp, challenge.ceremony),
        sealed,
        max_age=CHALLENGE_TTL_SECONDS,
        path="/",
        secure=gp.cookies.secure,
        httponly=True,
        samesite="strict",  # only our own script's same-origin requests carry it
    )


def held(request: Request, gp: Services, ceremony: Ceremony) -> Challenge:
    """The challenge issued for `ceremony` to this browser; ApiError when none is."""
    data = gp.cookie_box.open(ceremony.value, request.cookies.get(cookie_name(gp, ceremony), ""))
    if data is None:
        raise ApiError(400, "expired", EXPIRED)
    challenge, user_id = data.get("challenge"), data.get("user_id")
    if not isinstance(challenge, str) or not (user_id is None or isinstance(user_id, str)):
        raise ApiError(400, "expired", EXPIRED)
    return Challenge(ceremony, challenge, user_id)


def let_go(response: Response, gp: Services, ceremony: Ceremony) -> None:
    """Clear the ceremony's cookie: a challenge is answered once, right or wrong."""
    response.delete_cookie(
        cookie_name(gp, ceremony), path="/", secure=gp.cookies.secure, httponly=True
    )

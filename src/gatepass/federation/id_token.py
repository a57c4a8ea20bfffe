"""An upstream id token's claims (OpenID Connect Core §3.1.3.7), after its signature.

iss  one of the provider's issuers                       (step 2)
aud  contains our client_id                              (step 3)
azp  our client_id when present; required with several audiences (steps 4, 5)
exp  in the future, iat not, nbf passed: 60 s leeway     (steps 9, 10)
nonce  exactly the one we sent                           (step 11)
sub  a string of at most 255 ASCII characters            (§2)
"""

import hmac
from collections.abc import Mapping
from typing import Any

from gatepass.federation.model import UpstreamError

LEEWAY_SECONDS = 60
MAX_SUBJECT_CHARS = 255


def validate_claims(
    claims: Mapping[str, Any],
    *,
    issuers: tuple[str, ...],
    client_id: str,
    nonce: str,
    now: float,
) -> str:
    """The id token's `sub` once every claim checks out; UpstreamError otherwise."""
    if claims.get("iss") not in issuers:
        raise _bad(f"iss {str(claims.get('iss'))[:200]!r}")
    _check_audience(claims, client_id)
    exp, iat, nbf = _time(claims, "exp"), _time(claims, "iat"), claims.get("nbf")
    if exp is None or iat is None:
        raise _bad("exp and iat are required")
    if now >= exp + LEEWAY_SECONDS:
        raise _bad("expired")
    if iat > now + LEEWAY_SECONDS:
        raise _bad("issued in the future")
    if nbf is not None and (_time(claims, "nbf") is None or now + LEEWAY_SECONDS < nbf):
        raise _bad("not yet valid")
    sent = claims.get("nonce")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
        raise _bad("nonce does not match")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > MAX_SUBJECT_CHARS:
        raise _bad("sub missing or malformed")
    if not subject.isascii() or not subject.isprintable():
        raise _bad("sub is not printable ASCII")
    return subject


def _check_audience(claims: Mapping[str, Any], client_id: str) -> None:
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        raise _bad("malformed aud")
    if client_id not in audiences:
        raise _bad("issued to another client")
    azp = claims.get("azp")
    if azp is not None and azp != client_id:
        raise _bad("azp is another client")
    if azp is None and len(audiences) > 1:
        raise _bad("several audiences and no azp")


def _time(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _bad(debug: str) -> UpstreamError:
    return UpstreamError("invalid_id_token", debug)

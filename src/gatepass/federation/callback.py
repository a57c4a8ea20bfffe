"""The provider's redirect back (RFC 6749 §4.1.2): is it the answer to our request?

Checked before anything is sent anywhere: the login in flight is this provider's, the
`state` is the one we sent (RFC 6749 §10.12: CSRF), the login is not stale, an error
answer is named, and `iss` (RFC 9207) names the provider we sent the browser to.
"""

import hmac
from collections.abc import Mapping

from gatepass.federation.model import PendingLogin, UpstreamError, UpstreamProvider

PENDING_MAX_AGE_SECONDS = 600  # ten minutes to sign in upstream, as for our own codes
CLOCK_SKEW_SECONDS = 60
MAX_PARAMETER_CHARS = 4096
# RFC 6749 §4.1.2.1 and OIDC Core §3.1.2.6 error codes that say "not now", not "not so".
TRANSIENT_ERRORS = frozenset({"temporarily_unavailable", "server_error"})
USER_ERRORS = frozenset(
    {"access_denied", "login_required", "consent_required", "interaction_required"}
)


def check_callback(
    provider: UpstreamProvider,
    pending: PendingLogin,
    params: Mapping[str, str],
    *,
    now: float,
) -> str:
    """The authorization code, once the callback has passed every check."""
    if pending.provider != provider.name:
        raise UpstreamError("invalid_state", "the login in flight is another provider's")
    state = params.get("state")
    error = params.get("error")
    # An error answer carries the state too (§4.1.2.1); one without is still shown as
    # the error it is: a forged one can only make a person press "try again".
    if (state is not None or error is None) and not _same(state, pending.state):
        raise UpstreamError("invalid_state", "state does not match")
    if error is not None:
        raise _error_answer(error, params.get("error_description", ""))
    age = now - pending.created_at
    if age > PENDING_MAX_AGE_SECONDS or age < -CLOCK_SKEW_SECONDS:
        raise UpstreamError("invalid_state", f"login started {int(age)} s ago")
    code = params.get("code")
    if not code or len(code) > MAX_PARAMETER_CHARS:
        raise UpstreamError("exchange_failed", "callback without a code")
    return code


def check_issuer_parameter(
    params: Mapping[str, str], issuers: tuple[str, ...], *, required: bool
) -> None:
    """RFC 9207 §2.4: an `iss` that differs means a mix-up; absent, it is required only
    when the provider advertises sending it."""
    iss = params.get("iss")
    if iss is None:
        if required:
            raise UpstreamError("invalid_state", "the provider always sends iss; it is missing")
        return
    if not any(_same(iss, issuer) for issuer in issuers):
        raise UpstreamError("invalid_state", f"iss {iss[:200]!r} is not the provider's")


def _error_answer(error: str, description: str) -> UpstreamError:
    debug = f"error={error[:100]!r} description={description[:200]!r}"
    if error in USER_ERRORS:
        return UpstreamError("access_denied", debug)
    if error in TRANSIENT_ERRORS:
        return UpstreamError("unavailable", debug)
    # invalid_request, unauthorized_client, invalid_scope, ...: our request was wrong.
    return UpstreamError("misconfigured", debug)


def _same(given: str | None, expected: str) -> bool:
    if given is None or len(given) > MAX_PARAMETER_CHARS:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))

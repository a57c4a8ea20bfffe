"""Redirect URIs (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §2.1, §2.6): what to register, exact match.

What may be registered: an absolute URI without a fragment; `https`, or plain
`http` only on a loopback host (127.0.0.1, [::1], localhost); a private-use
scheme (`com.example.app:/cb`) only for public native clients.

How a request's URI is compared: exact string equality (SECURITY.md decision 5:
no normalisation of host case, default ports or percent-encoding). The one
exception is RFC 8252 §7.3: the port of an `http` loopback URI may differ.
"""

import re
from collections.abc import Iterable

from gatepass.oauth.errors import InvalidRedirectUri

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "[::1]", "localhost"})
MAX_URI_LENGTH = 2000
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")  # RFC 3986 §3.1, written in lower case
# RFC 8252 §7.1: a private-use scheme is a reverse domain name the app's owner controls.
_PRIVATE_SCHEME = re.compile(r"[a-z][a-z0-9-]*(\.[a-z0-9-]+)+")
_AUTHORITY = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(?::(?P<port>[0-9]{1,5}))?")


def validate_redirect_uri(uri: str, *, public: bool) -> None:
    """Raise InvalidRedirectUri, naming the rule, unless `uri` may be registered."""
    if not uri or len(uri) > MAX_URI_LENGTH:
        raise InvalidRedirectUri(f"A redirect URI must be 1 to {MAX_URI_LENGTH} characters long.")
    if any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in uri):
        raise InvalidRedirectUri(f"{uri!r}: spaces and control characters are not allowed.")
    # RFC 6749 §3.1.2: the endpoint URI MUST NOT include a fragment component.
    if "#" in uri:
        raise InvalidRedirectUri(f"{uri!r}: a redirect URI must not contain a fragment (#).")
    scheme, colon, rest = uri.partition(":")
    # RFC 6749 §3.1.2: the redirection endpoint URI MUST be an absolute URI.
    if not colon or not _SCHEME.fullmatch(scheme):
        raise InvalidRedirectUri(
            f"{uri!r}: a redirect URI must be absolute, with a lower-case scheme such as https://"
        )
    if scheme in ("http", "https"):
        _validate_web_uri(uri, scheme, rest)
    else:
        _validate_private_use_uri(uri, scheme, public=public)


def _validate_web_uri(uri: str, scheme: str, rest: str) -> None:
    authority = _authority(rest)
    if authority is None:
        raise InvalidRedirectUri(f"{uri!r}: expected {scheme}://host/path.")
    match = _AUTHORITY.fullmatch(authority)
    if match is None or (match["port"] is not None and not 0 < int(match["port"]) < 65536):
        raise InvalidRedirectUri(
            f"{uri!r}: the host must be a plain name or address, with an optional port "
            "(no user information)."
        )
    # RFC 9700 §2.6 and RFC 8252 §8.3: no plain http, except loopback for native apps.
    if scheme == "http" and match["host"] not in LOOPBACK_HOSTS:
        raise InvalidRedirectUri(
            f"{uri!r}: plain http is allowed only for loopback hosts "
            "(127.0.0.1, [::1], localhost; RFC 8252 §7.3); use https."
        )


def _validate_private_use_uri(uri: str, scheme: str, *, public: bool) -> None:
    if not public:
        raise InvalidRedirectUri(
            f"{uri!r}: private-use URI schemes are for public native clients "
            "(RFC 8252 §7.1); use https."
        )
    if not _PRIVATE_SCHEME.fullmatch(scheme):
        raise InvalidRedirectUri(
            f"{uri!r}: a private-use scheme must be a reverse domain name the app "
            "controls, such as com.example.app:/callback (RFC 8252 §7.1)."
        )


def _authority(rest: str) -> str | None:
    """The authority of `//authority/path?query`, or None when there is none."""
    if not rest.startswith("//"):
        return None
    after = rest[2:]
    end = min((i for i in (after.find("/"), after.find("?")) if i >= 0), default=len(after))
    return after[:end] or None


def _without_loopback_port(uri: str) -> str | None:
    """`http://127.0.0.1:8080/cb?x` as `http://127.0.0.1/cb?x`; None unless http loopback."""
    if not uri.startswith("http://"):
        return None
    authority = _authority(uri[len("http:") :])
    match = _AUTHORITY.fullmatch(authority) if authority is not None else None
    if authority is None or match is None or match["host"] not in LOOPBACK_HOSTS:
        return None
    if match["port"] is not None and not 0 < int(match["port"]) < 65536:
        return None
    return "http://" + match["host"] + uri[len("http://") + len(authority) :]


def matches_registered(registered: Iterable[str], uri: str) -> bool:
    """Whether `uri` is one of `registered`, by exact string comparison.

    RFC 8252 §7.3: the AS MUST allow any port at request time for loopback IP
    redirect URIs; so an http loopback URI matches whatever its port. Host,
    path and query still match exactly.
    """
    registered = tuple(registered)
    if uri in registered:
        return True
    portless = _without_loopback_port(uri)
    return portless is not None and any(_without_loopback_port(r) == portless for r in registered)

"""Resource indicators (RFC 8707 §2): what a resource URI, and so an `aud`, may look like.

One rule for the `resource` of a request (oauth/authorize.py) and for the default
audience a client registers (oauth/clients.py): both end up as an access token's `aud`.
"""

import re

MAX_RESOURCE_LENGTH = 2000  # room to spare for any real API URI, not unbounded
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def is_resource_uri(value: str) -> bool:
    """Whether `value` is an absolute URI without a fragment, white space or control characters.

    RFC 8707 §2: the resource is an absolute URI (RFC 3986 §4.3) and MUST NOT include a
    fragment. White space is refused too: `aud` values are compared as exact strings, and
    a space would make a scope-like list out of one audience.
    """
    return (
        len(value) <= MAX_RESOURCE_LENGTH
        and _SCHEME.match(value) is not None
        and "#" not in value
        and not any(ord(ch) <= 0x20 or ord(ch) == 0x7F or ch.isspace() for ch in value)
    )

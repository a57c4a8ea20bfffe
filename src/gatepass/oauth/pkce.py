"""PKCE (RFC 7636): S256 challenges only.

    client                                   gatepass
      verifier = 43..128 random unreserved chars
      challenge = BASE64URL(SHA-256(verifier))
      /authorize?code_challenge=...&code_challenge_method=S256  ->  stored with the code
      /token?code=...&code_verifier=...                          ->  S256(verifier) == challenge

`plain` is refused (RFC 9700 §2.1.1, ASVS 10.4.6): it sends the verifier itself
through the front channel, where PKCE exists to keep it out.
"""

import re

from gatepass.crypto.secrets import digest, same
from gatepass.oauth.errors import InvalidRequest

S256 = "S256"
CHALLENGE_METHODS = (S256,)
# RFC 7636 §4.1, §4.2: code-verifier = code-challenge = 43*128unreserved,
# unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~".
_UNRESERVED_43_128 = re.compile(r"[A-Za-z0-9._~-]{43,128}")


def validate_code_challenge(challenge: str | None, method: str | None) -> str:
    """The challenge, when it is a well-formed S256 one; raises InvalidRequest otherwise."""
    # RFC 9700 §2.1.1 and OAuth 2.1 §4.1.2.1: every client sends a challenge.
    if challenge is None:
        raise InvalidRequest("code_challenge is required (PKCE with S256, RFC 7636).")
    if method is None:
        # RFC 7636 §4.3 would default to `plain`; gatepass refuses plain (RFC 9700 §2.1.1).
        raise InvalidRequest("code_challenge_method is required and must be S256.")
    if method == "plain":
        raise InvalidRequest("code_challenge_method plain is not allowed; use S256.")
    if method not in CHALLENGE_METHODS:
        # RFC 7636 §4.4.1: an unsupported method is answered with invalid_request.
        raise InvalidRequest("Unsupported code_challenge_method; use S256.")
    if not _UNRESERVED_43_128.fullmatch(challenge):
        raise InvalidRequest("code_challenge must be 43 to 128 unreserved characters.")
    return challenge


def s256(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))), unpadded."""
    # crypto.secrets.digest is exactly this transform (the Appendix B vector checks it).
    return digest(verifier)


def verify_code_verifier(verifier: str | None, challenge: str) -> bool:
    """Whether `verifier` answers `challenge` (RFC 7636 §4.6), compared in constant time."""
    if verifier is None or not _UNRESERVED_43_128.fullmatch(verifier):
        return False
    return same(s256(verifier), challenge)

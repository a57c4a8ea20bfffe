"""Authentication context class references (OIDC Core §2 `acr`, §3.1.2.1 `acr_values`).

gatepass names two levels, derived from the session's `amr` (RFC 8176):
- ACR_SINGLE: one factor (a password, or a login at an upstream provider);
- ACR_MFA: a second factor proved itself too (amr holds "mfa").

A client asking for ACR_MFA in `acr_values` gets a user whose session lacks it sent to
the second-factor step first (a step-up); other values are voluntary and ignored.
"""

from collections.abc import Iterable, Sequence

ACR_SINGLE = "urn:gatepass:acr:1fa"
ACR_MFA = "urn:gatepass:acr:mfa"
ACR_VALUES_SUPPORTED = (ACR_SINGLE, ACR_MFA)
MFA_AMR = "mfa"


def acr_for(amr: Sequence[str]) -> str:
    return ACR_MFA if MFA_AMR in amr else ACR_SINGLE


def wants_mfa(acr_values: Iterable[str]) -> bool:
    """True when the client asked for the multi-factor level (OIDC Core §3.1.2.1: the
    values are in order of preference; gatepass meets the highest it is asked for)."""
    return ACR_MFA in acr_values

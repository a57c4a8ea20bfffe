"""Signing a user out of everything: every session and every token family (grant).

"Log out everywhere", a password change that logs out the other sessions, and an
operator disabling or deleting a user or ending all their sessions mean one thing:
nothing that was signed in stays signed in, browsers and apps alike (ASVS 7.4.2, 7.4.3;
SECURITY.md SS-11, SS-12). The account page and the CLI both call this, so no path can
end the sessions and forget the refresh tokens.
"""

from dataclasses import dataclass

from gatepass.web.state import Services


@dataclass(frozen=True)
class SignedOut:
    sessions: int  # sessions ended
    grants: int  # token families revoked (each with its refresh and access tokens)

    def summary(self) -> str:
        return f"ended {self.sessions} session(s) and revoked {self.grants} app grant(s)"


async def sign_out_everywhere(gp: Services, user_id: str) -> SignedOut:
    """End every session of the user, then revoke every live token family."""
    # Sessions first: a session still alive could start a new family through /authorize
    # after the families were revoked. The subject's not-before then kills every token
    # issued so far, and every authorization code still waiting to be redeemed.
    sessions = await gp.sessions.end_all(user_id)
    grants = await gp.grants.families.revoke_for_user(user_id)
    await gp.grants.revocations.revoke_subject(user_id)
    return SignedOut(sessions=sessions, grants=len(grants))

"""What the routes reach through `request.app.state.gatepass`: built once in app.py."""

import ipaddress
from dataclasses import dataclass

from starlette.requests import Request
from starlette.templating import Jinja2Templates

from gatepass.accounts.lifecycle import AccountLifecycle
from gatepass.accounts.model import User
from gatepass.accounts.service import Accounts
from gatepass.audit.log import AuditLog
from gatepass.audit.model import AuditEventType
from gatepass.clock import Clock
from gatepass.config import Settings
from gatepass.federation.identities import Identities
from gatepass.federation.registry import ProviderRegistry
from gatepass.federation.relying_party import RelyingParty
from gatepass.keys.ring import KeyRing
from gatepass.mail.postman import Postman
from gatepass.mfa.passkeys import Passkeys
from gatepass.mfa.service import SecondFactors
from gatepass.oauth.codes import AuthorizationCodes
from gatepass.oauth.consents import Consents
from gatepass.oauth.grants import GrantContext
from gatepass.oauth.registry import ClientRegistry
from gatepass.oidc.userinfo import UserInfo
from gatepass.sessions.manager import SessionManager
from gatepass.sessions.policy import CookiePolicy
from gatepass.throttle.limiter import LoginThrottle
from gatepass.web.client import client_address, user_agent
from gatepass.web.metrics import AUDIT_EVENTS
from gatepass.web.sealed_cookies import CookieBox


@dataclass(frozen=True)
class Services:
    settings: Settings
    accounts: Accounts
    sessions: SessionManager
    throttle: LoginThrottle
    audit: AuditLog
    cookies: CookiePolicy
    templates: Jinja2Templates
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    keys: KeyRing
    clients: ClientRegistry
    codes: AuthorizationCodes
    consents: Consents
    clock: Clock
    grants: GrantContext
    userinfo: UserInfo
    providers: ProviderRegistry  # upstream identity providers (federation/)
    relying_party: RelyingParty
    identities: Identities
    cookie_box: CookieBox
    lifecycle: AccountLifecycle  # mailed links: verification, reset, e-mail change
    postman: Postman  # outgoing mail (mail/)
    mfa: SecondFactors  # TOTP and recovery codes; passkeys join via mfa.extra_sources
    passkeys: Passkeys  # WebAuthn credentials (mfa/passkeys.py)

    def address(self, request: Request) -> str:
        return client_address(request, self.trusted_proxies)

    def agent(self, request: Request) -> str:
        return user_agent(request)

    async def audit_event(
        self,
        request: Request,
        type: AuditEventType,
        *,
        user: User | None = None,
        email: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Record an event with the request's client address and user agent."""
        AUDIT_EVENTS.labels(type.value).inc()
        await self.audit.record(
            type,
            user_id=user.id if user is not None else None,
            email=user.email if user is not None else email,
            address=self.address(request),
            user_agent=self.agent(request),
            detail=detail,
        )


def services(request: Request) -> Services:
    gatepass: Services = request.app.state.gatepass
    return gatepass

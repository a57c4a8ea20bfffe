"""The one wiring point: settings -> stores -> cores -> routes."""

import asyncio
import contextlib
import functools
import gc
import ipaddress
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp

from gatepass.accounts.lifecycle import AccountLifecycle
from gatepass.accounts.links import AccountLinks
from gatepass.accounts.model import User
from gatepass.accounts.service import Accounts
from gatepass.audit.log import AuditLog
from gatepass.clock import Clock, SystemClock
from gatepass.config import Settings, load_settings
from gatepass.crypto.master_key import MasterKey, load_master_key
from gatepass.crypto.passwords import Argon2Parameters, PasswordHasher
from gatepass.crypto.sealing import KeySealer
from gatepass.crypto.secret_box import SecretSealer
from gatepass.errors import GatepassError
from gatepass.federation.identities import Identities
from gatepass.federation.presets import from_settings
from gatepass.federation.registry import ProviderRegistry
from gatepass.federation.relying_party import RelyingParty
from gatepass.keys.ring import KeyRing, RotationPolicy
from gatepass.mail.postman import Postman
from gatepass.mail.senders import sender_for
from gatepass.mail.templates import MailTemplates
from gatepass.mfa.passkeys import Passkeys
from gatepass.mfa.passkeys import RelyingParty as PasskeyRelyingParty
from gatepass.mfa.service import SecondFactors
from gatepass.oauth.clients import (
    AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS,
    REFRESH_TOKEN,
    STANDARD_SCOPES,
)
from gatepass.oauth.codes import AuthorizationCodes
from gatepass.oauth.consents import Consents
from gatepass.oauth.grants import GrantContext, ReleasedClaims
from gatepass.oauth.registry import ClientRegistry
from gatepass.oauth.token_settings import TokenDefaults, refresh_policy_for
from gatepass.oidc import discovery as oidc_discovery
from gatepass.oidc.id_tokens import IdTokenPolicy, IdTokens
from gatepass.oidc.userinfo import UserInfo, UserProfile, claims_for
from gatepass.sessions.manager import SessionManager
from gatepass.sessions.policy import CookiePolicy, SessionPolicy
from gatepass.storage.backends import Backends, open_backends
from gatepass.storage.challenges import ThrottleChallengeRegister
from gatepass.storage.sql.passkeys import SqlPasskeyStore
from gatepass.storage.sql.second_factors import (
    SqlPasskeyPresence,
    SqlRecoveryCodeStore,
    SqlTotpStore,
)
from gatepass.throttle.limiter import LoginThrottle, ThrottleLimits
from gatepass.tokens.access_tokens import AccessTokenPolicy, AccessTokens
from gatepass.tokens.families import RefreshTokenSecrets
from gatepass.tokens.refresh import TokenFamilies
from gatepass.tokens.revocation import Revocations
from gatepass.tokens.signing import KeySource
from gatepass.web import error_pages
from gatepass.web.metrics import MetricsMiddleware
from gatepass.web.middleware.back_channel import BackChannelMiddleware
from gatepass.web.middleware.limits import RequestLimitsMiddleware
from gatepass.web.middleware.security_headers import SecurityHeadersMiddleware, security_headers
from gatepass.web.middleware.static_documents import Answer, StaticDocumentsMiddleware
from gatepass.web.routes import (
    account,
    auth,
    authorize,
    consents,
    discovery,
    email_change,
    email_verification,
    federation,
    health,
    jwks,
    logout,
    metrics,
    mfa_account,
    passkey_second_factor,
    passkeys,
    password_reset,
    reauthenticate,
    revocation_stream,
    second_factor,
    token,
    token_status,
    userinfo,
)
from gatepass.web.sealed_cookies import CookieBox
from gatepass.web.state import Services

HERE = Path(__file__).parent
SWEEP_INTERVAL_SECONDS = 60
# What discovery advertises: add an endpoint's name here in the change that routes it
# (names from oidc/discovery.py ENDPOINT_PATHS).
DISCOVERY_ENDPOINTS: tuple[str, ...] = (
    "jwks_uri",
    "authorization_endpoint",
    "token_endpoint",
    "end_session_endpoint",
    "userinfo_endpoint",
    "revocation_endpoint",
    "introspection_endpoint",
)
DISCOVERY_GRANT_TYPES: tuple[str, ...] = (AUTHORIZATION_CODE, REFRESH_TOKEN, CLIENT_CREDENTIALS)
log = logging.getLogger("gatepass")


def build_services(settings: Settings, backends: Backends, clock: Clock) -> Services:
    hasher = PasswordHasher(
        Argon2Parameters(
            settings.argon2_memory_kib, settings.argon2_time_cost, settings.argon2_parallelism
        )
    )
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["timestamp"] = _timestamp
    keys = build_key_ring(settings, backends, clock)
    codes = AuthorizationCodes(backends.codes, clock, ttl_seconds=settings.code_ttl)
    accounts = Accounts(backends.users, hasher, clock)
    grants = build_grants(settings, backends, clock, keys, codes, accounts)
    return Services(
        settings=settings,
        accounts=accounts,
        sessions=SessionManager(
            backends.sessions,
            SessionPolicy(
                settings.session_idle_ttl,
                settings.session_absolute_ttl,
                settings.max_sessions_per_user,
            ),
            clock,
            # Ended sessions go into the revocation log (durable, published).
            grants.revocations,
        ),
        throttle=LoginThrottle(
            backends.throttle,
            ThrottleLimits(
                settings.login_account_limit,
                settings.login_address_limit,
                settings.login_window_seconds,
            ),
            clock,
        ),
        audit=AuditLog(backends.audit, clock),
        cookies=CookiePolicy(secure=settings.is_https),
        templates=templates,
        trusted_proxies=tuple(
            ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies
        ),
        keys=keys,
        # The CLI digests client secrets under the same master subkey (cli/clients.py).
        clients=ClientRegistry(
            backends.clients,
            lambda: load_master_key(settings).client_secret_key(),
            clock,
            cache_seconds=settings.client_cache_seconds,
        ),
        codes=codes,
        consents=Consents(backends.consents, clock),
        clock=clock,
        grants=grants,
        userinfo=build_userinfo(accounts, grants),
        providers=ProviderRegistry(
            from_settings(settings.providers),
            backends.providers,
            SecretSealer(functools.partial(load_master_key, settings)),
            clock,
        ),
        relying_party=RelyingParty(clock),
        identities=Identities(backends.identities, clock),
        cookie_box=CookieBox(lambda: load_master_key(settings).upstream_login_key(), clock),
        lifecycle=AccountLifecycle(
            backends.users, AccountLinks(backends.account_links, clock), hasher, clock
        ),
        postman=build_postman(settings, clock),
        mfa=build_second_factors(settings, backends, clock),
        passkeys=Passkeys(
            SqlPasskeyStore(backends.engine),
            ThrottleChallengeRegister(backends.throttle),
            PasskeyRelyingParty.for_issuer(settings.issuer),
            clock,
        ),
    )


def build_second_factors(settings: Settings, backends: Backends, clock: Clock) -> SecondFactors:
    """TOTP secrets sealed and recovery codes digested under master subkeys of their own;
    a passkey counts as a factor too (read from its table)."""
    return SecondFactors(
        SqlTotpStore(backends.engine),
        SqlRecoveryCodeStore(backends.engine),
        SecretSealer(functools.partial(load_master_key, settings), MasterKey.totp_secret_key),
        lambda: load_master_key(settings).recovery_code_key(),
        clock,
        extra_sources=[SqlPasskeyPresence(backends.engine)],
    )


def build_postman(settings: Settings, clock: Clock) -> Postman:
    """Outgoing mail: SMTP when `smtp_url` is set, else .eml files in `mail_folder`."""
    sender = sender_for(settings.smtp_url, settings.mail_from, settings.mail_folder, clock)
    override = Path(settings.mail_templates) if settings.mail_templates else None
    return Postman(sender, MailTemplates(override))


def build_grants(
    settings: Settings,
    backends: Backends,
    clock: Clock,
    keys: KeySource,
    codes: AuthorizationCodes,
    accounts: Accounts,
) -> GrantContext:
    """What the token endpoint's grants work with (oauth/grants/)."""

    async def signed_in_user(user_id: str) -> ReleasedClaims | None:
        # One read of the user for both questions a grant asks: still allowed, and
        # what the id token may say (the same rule as /userinfo's).
        user = await accounts.get(user_id)
        if user is None or user.disabled:
            return None
        profile = _profile(user)

        def released(scope: tuple[str, ...]) -> dict[str, Any]:
            claims = claims_for(profile, scope).as_json()
            claims.pop("sub")
            return claims

        return released

    revocations = build_revocations(settings, backends, clock)
    refresh_defaults = TokenDefaults(
        settings.refresh_token_idle_ttl,
        settings.refresh_token_absolute_ttl,
        settings.refresh_retry_window,
    )
    return GrantContext(
        codes=codes,
        access_tokens=build_access_tokens(settings, keys, clock),
        id_tokens=build_id_tokens(settings, keys, clock),
        families=build_families(settings, backends, clock, revocations),
        revocations=revocations,
        signed_in_user=signed_in_user,
        clock=clock,
        refresh_policy=functools.partial(refresh_policy_for, defaults=refresh_defaults),
        first_party_refresh=settings.first_party_refresh_tokens,
    )


def build_revocations(settings: Settings, backends: Backends, clock: Clock) -> Revocations:
    """The revocation log (SQL) and its feed (Redis when configured; docs/revocation.md)."""
    return Revocations(
        backends.revocations,
        backends.revocation_feed,
        clock,
        # Every token gatepass signed has expired by then (access and id tokens alike).
        max_token_ttl_seconds=settings.max_signed_token_ttl,
    )


def build_families(
    settings: Settings, backends: Backends, clock: Clock, revocations: Revocations
) -> TokenFamilies:
    secrets = RefreshTokenSecrets(lambda: load_master_key(settings).refresh_successor_key())
    return TokenFamilies(backends.families, revocations, secrets, clock)


def build_userinfo(accounts: Accounts, grants: GrantContext) -> UserInfo:
    """The /userinfo core: the grants' access tokens and revocations, the user records."""

    async def profile(user_id: str) -> UserProfile | None:
        user = await accounts.get(user_id)
        return None if user is None else _profile(user)

    return UserInfo(grants.access_tokens, grants.revocations, profile)


def _profile(user: User) -> UserProfile:
    """What /userinfo and the id token may say of a user (oidc/userinfo.py decides)."""
    return UserProfile(user.id, user.email, user.name, user.disabled, user.email_verified)


def build_key_ring(settings: Settings, backends: Backends, clock: Clock) -> KeyRing:
    """The signing keys; the master key is read (or its file created) on first use only."""
    return KeyRing(
        backends.signing_keys,
        KeySealer(functools.partial(load_master_key, settings)),
        RotationPolicy(
            settings.jwks_max_age, settings.max_signed_token_ttl, settings.key_refresh_seconds
        ),
        clock,
        settings.signing_algorithms,
    )


def build_access_tokens(settings: Settings, keys: KeySource, clock: Clock) -> AccessTokens:
    return AccessTokens(
        keys,
        AccessTokenPolicy(
            issuer=settings.issuer,
            alg=settings.access_token_alg,
            ttl_seconds=settings.access_token_ttl,
            default_audience=settings.access_token_audience,
        ),
        clock,
    )


def build_id_tokens(settings: Settings, keys: KeySource, clock: Clock) -> IdTokens:
    return IdTokens(keys, IdTokenPolicy(settings.issuer, settings.id_token_ttl), clock)


def discovery_document(settings: Settings) -> bytes:
    """The provider metadata, from settings alone (never from a request)."""
    facts = oidc_discovery.ProviderFacts(
        issuer=settings.issuer,
        endpoints=DISCOVERY_ENDPOINTS,
        grant_types=DISCOVERY_GRANT_TYPES,
        id_token_algs=settings.signing_algorithms,
        scopes=STANDARD_SCOPES,
    )
    return oidc_discovery.render(oidc_discovery.provider_metadata(facts))


def create_app(
    settings: Settings, *, backends: Backends | None = None, clock: Clock | None = None
) -> Starlette:
    """The ASGI app. Given `backends`, it uses them and leaves closing to the caller."""
    clock = clock or SystemClock()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = backends is None
        opened = backends if backends is not None else await open_backends(settings)
        app.state.backends = opened
        app.state.gatepass = build_services(settings, opened, clock)
        try:
            await app.state.gatepass.keys.start()
        except BaseException:
            if owned:
                await opened.close()
            raise
        sweeper = asyncio.create_task(_sweep_forever(opened, clock))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            if owned:
                await opened.close()

    static_documents = {
        **discovery.documents(discovery_document(settings)),
        **jwks.documents(settings),
    }
    app = _Gatepass(
        # Starlette tries routes in order: the back-channel endpoints that clients and
        # APIs call most come first (no path of theirs overlaps a page's).
        routes=[
            *token.routes,
            *token_status.routes,
            *userinfo.routes,
            *auth.routes,
            *passkeys.routes,  # before /login/{provider}
            *passkey_second_factor.routes,
            *second_factor.routes,  # /login/verify, /login/enrol: before /login/{provider}
            *mfa_account.routes,
            *federation.routes,
            *account.routes,
            *email_verification.routes,
            *email_change.routes,
            *password_reset.routes,
            *reauthenticate.routes,
            *authorize.routes,
            *consents.routes,
            *revocation_stream.routes,
            *logout.routes,
            *health.routes,
            *metrics.routes,
            *(document.route(path) for path, document in static_documents.items()),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        middleware=[
            Middleware(MetricsMiddleware),
            Middleware(SecurityHeadersMiddleware, https=settings.is_https),
            Middleware(RequestLimitsMiddleware, max_bytes=settings.max_body_bytes),
        ],
        exception_handlers=error_pages.HANDLERS,
        lifespan=lifespan,
    )
    headers = security_headers(settings.is_https)

    def front(stack: ASGIApp) -> ASGIApp:
        back_channel = BackChannelMiddleware(
            stack,
            routes=[*token.routes, *token_status.routes],
            headers=headers,
            max_bytes=settings.max_body_bytes,
        )
        return StaticDocumentsMiddleware(back_channel, documents=static_documents, headers=headers)

    app.front = front
    # No automatic 307 to a slash-terminated twin (RFC 9700 §4.12 wants 303 or none).
    app.router.redirect_slashes = False
    return app


class _Gatepass(Starlette):
    """Starlette with `front` around its whole middleware stack, error handling included:
    the static documents (middleware/static_documents.py) and the back-channel endpoints
    (middleware/back_channel.py) are answered there."""

    front: Callable[[ASGIApp], ASGIApp] | None = None

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        return stack if self.front is None else self.front(stack)

    def answer_at_once(self, method: str, path: str) -> Answer | None:
        """A static document's answer for an HTTP server to write itself, or None
        (cli/http_protocol.py): once the first request has built the middleware stack."""
        front = self.middleware_stack
        if not isinstance(front, StaticDocumentsMiddleware):
            return None
        return front.answer_at_once(self, method, path)


async def _sweep_forever(backends: Backends, clock: Clock) -> None:
    while True:
        try:
            await backends.sweep(clock.now())
        except GatepassError as exc:  # storage down: try again next round
            log.warning("sweep skipped: %s", exc)
        await asyncio.sleep(SWEEP_INTERVAL_SECONDS)


def app_from_environment() -> Starlette:
    """Factory for `uvicorn --factory` worker processes: settings from the environment."""
    import os

    config = os.environ.get("GATEPASS_CONFIG_FILE")
    app = create_app(load_settings(Path(config) if config else None))
    # What is loaded by now (modules, tables, routes) lives as long as the process: moved
    # out of the collector's reach, a full collection no longer walks it. That took the
    # token endpoint's slowest answers from about 65 ms to about 45 ms (docs/benchmarks.md).
    gc.collect()
    gc.freeze()
    return app


def _timestamp(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")

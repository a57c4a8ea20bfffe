"""Audit events. Never a password or a secret in them."""

from dataclasses import dataclass
from enum import StrEnum


class AuditEventType(StrEnum):
    SIGNUP = "signup"
    LOGIN_SUCCEEDED = "login.succeeded"
    LOGIN_FAILED = "login.failed"
    LOGIN_THROTTLED = "login.throttled"
    LOGOUT = "logout"
    LOGOUT_EVERYWHERE = "logout.everywhere"
    SESSION_REVOKED = "session.revoked"
    PASSWORD_CHANGED = "password.changed"  # noqa: S105 - an event name
    USER_CREATED = "user.created"
    USER_DISABLED = "user.disabled"
    USER_ENABLED = "user.enabled"
    USER_DELETED = "user.deleted"
    CONSENT_GRANTED = "consent.granted"
    CONSENT_REVOKED = "consent.revoked"
    GRANT_REVOKED = "grant.revoked"  # one token family, from the account page
    UPSTREAM_LOGIN_SUCCEEDED = "login.upstream.succeeded"  # at a provider (federation/)
    UPSTREAM_LOGIN_FAILED = "login.upstream.failed"
    IDENTITY_LINKED = "identity.linked"
    IDENTITY_UNLINKED = "identity.unlinked"
    # Account lifecycle (issue 10): links mailed and used, re-authentication.
    REAUTHENTICATED = "reauthenticated"
    EMAIL_VERIFICATION_SENT = "email.verification.sent"
    EMAIL_VERIFIED = "email.verified"
    EMAIL_CHANGE_REQUESTED = "email.change.requested"
    EMAIL_CHANGED = "email.changed"
    PASSWORD_RESET_REQUESTED = "password.reset.requested"  # noqa: S105 - an event name
    PASSWORD_RESET = "password.reset"  # noqa: S105 - an event name
    ACCOUNT_DELETED = "account.deleted"  # by its owner (USER_DELETED: by an administrator)
    # Second factors (mfa/).
    MFA_SUCCEEDED = "mfa.succeeded"
    MFA_FAILED = "mfa.failed"
    MFA_THROTTLED = "mfa.throttled"
    TOTP_ENROLLED = "mfa.totp.enrolled"
    TOTP_REMOVED = "mfa.totp.removed"
    RECOVERY_CODES_GENERATED = "mfa.recovery_codes.generated"
    RECOVERY_CODE_USED = "mfa.recovery_code.used"
    PASSKEY_ADDED = "mfa.passkey.added"
    PASSKEY_REMOVED = "mfa.passkey.removed"
    MFA_RESET = "mfa.reset"  # every factor removed by an administrator


@dataclass(frozen=True)
class AuditEvent:
    at: float
    type: AuditEventType
    user_id: str | None = None
    email: str | None = None
    address: str | None = None
    user_agent: str | None = None
    detail: str | None = None

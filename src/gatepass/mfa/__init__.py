"""Second factors: TOTP (RFC 6238), recovery codes and passkeys (WebAuthn)."""

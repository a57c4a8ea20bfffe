"""Tokens gatepass signs or hands out: JWT access tokens (RFC 9068), later refresh families
and revocation. Framework-free: keys come through `signing.KeySource`, time through a Clock."""

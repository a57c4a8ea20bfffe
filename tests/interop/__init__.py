"""Interop: independent OAuth/OIDC and JOSE libraries against a live gatepass serve."""

"""OAuth 2.0 authorization server core (RFC 6749, RFC 9700): clients, PKCE, requests, codes."""

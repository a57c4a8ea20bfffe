"""The token endpoint: POST /token with the authorization_code grant."""

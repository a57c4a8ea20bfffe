"""Framework adapters for the resource toolkit: each a thin skin over the same steps.

    request ─► Authorization header(s), access_token in the query? ─► common.authenticate
              ─► TokenVerifier.verify ─► VerifiedToken ─► common.authorize(scopes)
    any ResourceError ─► error.challenge(realm) ─► (status, headers, JSON body), rendered
                         by the framework: 401 / 400 / 403 / 503 per RFC 6750

    starlette.py  ASGI middleware GatepassAuth + @requires_scope
    fastapi.py    install(app, ...) + dependencies current_token, require_scope, current_user
    flask.py      extension Gatepass(app, verifier) + @require_token(scopes=...)
    django.py     GatepassMiddleware + @require_token(scopes=...)

Only these modules import a web framework, each only its own, and only when imported:
`gatepass.resource` works without any of them installed.
"""

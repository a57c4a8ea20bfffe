"""A tiny orders API on Flask, protected by gatepass's access tokens.

GET /orders needs the scope orders:read, POST /orders orders:write; /healthz is open.
Configuration: GATEPASS_ISSUER (default http://127.0.0.1:8000) and GATEPASS_AUDIENCE
(default: the issuer followed by /api, gatepass's default audience).
"""

import os

from flask import Flask, g, jsonify
from flask.typing import ResponseReturnValue

from gatepass.resource import TokenVerifier
from gatepass.resource.adapters.flask import Gatepass, require_token

ORDERS = [{"id": 1, "item": "tea", "quantity": 2}]


def create_app(issuer: str, audience: str) -> Flask:
    app = Flask(__name__)
    Gatepass(app, TokenVerifier(issuer, audience))

    @app.get("/orders")
    @require_token(scopes=["orders:read"])
    def list_orders() -> ResponseReturnValue:
        return jsonify(orders=ORDERS, client_id=g.token.client_id)

    @app.post("/orders")
    @require_token(scopes=["orders:write"])
    def add_order() -> ResponseReturnValue:
        return jsonify(id=len(ORDERS) + 1), 201

    @app.get("/healthz")
    def healthz() -> ResponseReturnValue:
        return jsonify(status="ok")

    return app


if __name__ == "__main__":
    ISSUER = os.environ.get("GATEPASS_ISSUER", "http://127.0.0.1:8000")
    app = create_app(ISSUER, os.environ.get("GATEPASS_AUDIENCE", f"{ISSUER}/api"))
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "8003")))

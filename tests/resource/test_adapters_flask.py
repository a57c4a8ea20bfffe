"""The Flask adapter (Gatepass extension + @require_token, @require_session) against a real
gatepass server, through Flask's test client: the async verifiers run on the extension's
background event loop while the views stay sync."""

import socket
import threading
from collections.abc import Iterator

import pytest
from flask import Flask, g, jsonify
from flask.testing import FlaskClient
from flask.typing import ResponseReturnValue

from gatepass.resource import TokenVerifier
from gatepass.resource.adapters.flask import Gatepass, require_session, require_token
from gatepass.resource.sessions import SessionVerifier
from tests.resource.adapter_support import (
    CASES,
    Api,
    Case,
    api,  # noqa: F401 - a fixture
    bearer,
    check,
    client_id_of,
    load_example,
    reply_of,
    sign_up_at,
    user_id_at,
)


@pytest.fixture
def example(api: Api) -> Iterator[FlaskClient]:  # noqa: F811
    app = load_example("api_flask").create_app(api.issuer, api.audience)
    try:
        yield app.test_client()
    finally:
        app.extensions["gatepass"].close()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_example_answers_as_rfc_6750_says(
    case: Case,
    api: Api,  # noqa: F811
    example: FlaskClient,
) -> None:
    response = example.get("/orders", headers=case.headers(api), query_string=case.query(api))
    reply = reply_of(response.status_code, response.headers, response.data)
    check(case, reply)
    if reply.status == 200:
        assert reply.body["client_id"] == client_id_of(api.read_write)


def test_each_method_asks_for_its_own_scope(api: Api, example: FlaskClient) -> None:  # noqa: F811
    assert example.post("/orders", headers=bearer(api.write_only)).status_code == 201
    assert example.post("/orders", headers=bearer(api.tampered())).status_code == 401
    assert example.get("/healthz").status_code == 200


def test_many_threads_share_the_one_background_loop(
    api: Api,  # noqa: F811
    example: FlaskClient,
) -> None:
    """A threaded WSGI server's workers all wait on the same loop: no answer gets lost or
    crosses to another request."""
    tokens = {"read": api.read_write, "write": api.write_only}
    answers: dict[tuple[int, str], int] = {}

    def worker(n: int) -> None:
        for kind, token in tokens.items():
            for _ in range(10):
                answers[(n, kind)] = example.get("/orders", headers=bearer(token)).status_code

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {(n, k): 200 if k == "read" else 403 for n in range(8) for k in tokens}


@pytest.fixture
def session_app(api: Api) -> Iterator[FlaskClient]:  # noqa: F811
    app = Flask(__name__)
    sessions = SessionVerifier(
        issuer=api.issuer, database_url=api.live.env["GATEPASS_DATABASE_URL"]
    )
    gatepass = Gatepass(app, TokenVerifier(api.issuer, api.audience), sessions=sessions)

    @app.get("/me")
    @require_session
    def me() -> ResponseReturnValue:
        return jsonify(user_id=g.session.user_id)

    @app.get("/token")
    @require_token()
    def token() -> ResponseReturnValue:
        return jsonify(scopes=sorted(g.token.scopes))

    try:
        yield app.test_client()
    finally:
        gatepass.close()
        gatepass.close()  # idempotent


def test_require_session_knows_the_user_signed_in_at_gatepass(
    api: Api,  # noqa: F811
    session_app: FlaskClient,
) -> None:
    secret = sign_up_at(api.live, "ada.flask@example.com")
    session_app.set_cookie("gp_session", secret)
    signed_in = session_app.get("/me")
    assert signed_in.status_code == 200
    assert signed_in.json == {"user_id": user_id_at(api.live, "ada.flask@example.com")}
    session_app.delete_cookie("gp_session")
    anonymous = session_app.get("/me")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == 'Cookie cookie-name="gp_session"'


def test_require_token_without_scopes_needs_any_valid_token(
    api: Api,  # noqa: F811
    session_app: FlaskClient,
) -> None:
    response = session_app.get("/token", headers=bearer(api.write_only))
    assert response.json == {"scopes": ["orders:write"]}
    assert session_app.get("/token").status_code == 401


def test_require_token_without_the_extension_is_a_programming_error() -> None:
    app = Flask(__name__)

    @app.get("/")
    @require_token("orders:read")
    def view() -> ResponseReturnValue:
        return ""  # pragma: no cover

    app.testing = True  # exceptions reach the test instead of a 500 page
    with pytest.raises(RuntimeError, match="Gatepass"):
        app.test_client().get("/")


def test_an_issuer_that_never_answers_is_503_after_the_timeout_never_a_hang(
    api: Api,  # noqa: F811
) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog), answers nothing
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        issuer = f"http://127.0.0.1:{silent.getsockname()[1]}"
        app = Flask(__name__)
        gatepass = Gatepass(app, TokenVerifier(issuer, f"{issuer}/api"), timeout=0.5)

        @app.get("/orders")
        @require_token("orders:read")
        def orders() -> ResponseReturnValue:
            return ""  # pragma: no cover

        try:
            response = app.test_client().get("/orders", headers=bearer(api.read_write))
        finally:
            gatepass.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json == {
        "error": "temporarily_unavailable",
        "error_description": "The service cannot check credentials right now.",
    }

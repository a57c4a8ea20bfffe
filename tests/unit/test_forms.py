"""Strict form parsing (web/forms.py), through a tiny Starlette app."""

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from gatepass.web.errors import BadRequest
from gatepass.web.forms import MAX_FIELDS, parse_form

FORM = "application/x-www-form-urlencoded"


async def echo(request: Request) -> Response:
    try:
        return JSONResponse(await parse_form(request))
    except BadRequest as exc:
        return PlainTextResponse(exc.message, status_code=exc.status_code)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=[Route("/", echo, methods=["POST"])])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def post(http: httpx.AsyncClient, body: bytes, content_type: str = FORM) -> httpx.Response:
    return await http.post("/", content=body, headers={"content-type": content_type})


async def test_a_form_becomes_a_dict_of_its_fields(http: httpx.AsyncClient) -> None:
    response = await post(http, b"email=ada%40example.com&name=Ada+Lovelace&note=caf%C3%A9")
    assert response.status_code == 200
    assert response.json() == {"email": "ada@example.com", "name": "Ada Lovelace", "note": "café"}


async def test_blank_fields_are_kept(http: httpx.AsyncClient) -> None:
    response = await post(http, b"name=&next=")
    assert response.json() == {"name": "", "next": ""}


async def test_an_empty_body_is_an_empty_form(http: httpx.AsyncClient) -> None:
    response = await post(http, b"")
    assert (response.status_code, response.json()) == (200, {})


async def test_a_charset_parameter_and_capitals_in_the_type_are_fine(
    http: httpx.AsyncClient,
) -> None:
    response = await post(http, b"a=1", "Application/X-WWW-Form-Urlencoded; charset=UTF-8")
    assert response.json() == {"a": "1"}


async def test_exactly_the_maximum_number_of_fields_is_accepted(http: httpx.AsyncClient) -> None:
    body = "&".join(f"f{i}=x" for i in range(MAX_FIELDS)).encode()
    response = await post(http, body)
    assert response.status_code == 200
    assert len(response.json()) == MAX_FIELDS


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        pytest.param(b'{"a": 1}', "application/json", 415, id="json is refused with 415"),
        pytest.param(b"a=1", "multipart/form-data; boundary=x", 415, id="multipart is 415"),
        pytest.param(b"a=1", "", 415, id="no content type is 415"),
        pytest.param(b"a=1&a=2", FORM, 400, id="a repeated field is refused"),
        pytest.param(b"a=%ff", FORM, 400, id="percent-encoded bytes that are not utf-8"),
        pytest.param(b"a=\xff", FORM, 400, id="raw bytes that are not utf-8"),
        pytest.param(b"a=x%00y", FORM, 400, id="a NUL character"),
        pytest.param(
            "&".join(f"f{i}=x" for i in range(MAX_FIELDS + 1)).encode(),
            FORM,
            400,
            id="one field more than the maximum",
        ),
    ],
)
async def test_a_malformed_or_hostile_form_is_refused(
    http: httpx.AsyncClient, body: bytes, content_type: str, status: int
) -> None:
    response = await post(http, body, content_type)
    assert response.status_code == status
    assert response.text  # a message a person can read

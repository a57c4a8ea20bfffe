"""docs/openapi.yaml is a valid OpenAPI 3.1 document and lists exactly the app's routes.

The routes are read from the Starlette app built as the tests build it (tests/support.py),
so a route added or removed without the document fails here, and so does an operation the
document invents. `HEAD` is implied by `GET` (Starlette answers it for every GET route);
the `/static` mount is the document's `/static/{path}`.
"""

import copy
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml  # type: ignore[import-untyped]
from schemathesis.core.result import Ok
from starlette.routing import Mount, Route

from gatepass.web.app import create_app
from tests.support import POSTGRES_ADMIN_URL, settings_for

DOCUMENT = Path(__file__).parents[2] / "docs" / "openapi.yaml"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def load_document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    return loaded


def documented_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def app_operations(tmp_path: Path) -> set[tuple[str, str]]:
    app = create_app(settings_for("sqlite", tmp_path, POSTGRES_ADMIN_URL, "gpdoc:"))
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        if isinstance(route, Route):
            methods = set(route.methods or ())
            # Starlette adds HEAD to every GET route; the document leaves it implied.
            assert "GET" not in methods or "HEAD" in methods, route.path
            found |= {(m, route.path) for m in methods - {"HEAD"}}
        elif isinstance(route, Mount):
            found.add(("GET", route.path + "/{path}"))
        else:
            raise AssertionError(f"a route of an unknown kind: {route!r}")
    return found


def test_the_document_lists_exactly_the_apps_routes(tmp_path: Path) -> None:
    documented = documented_operations(load_document())
    served = app_operations(tmp_path)
    assert sorted(served - documented) == [], "served but not documented"
    assert sorted(documented - served) == [], "documented but not served"


def test_the_document_is_valid_openapi_3_1() -> None:
    schema = schemathesis.openapi.from_path(DOCUMENT)
    schema.validate()  # the OpenAPI 3.1 meta-schema
    assert schema.specification.version == "3.1.0"
    # Every operation resolves (references, parameters, bodies) into something testable.
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()


def test_the_validator_refuses_a_broken_document() -> None:
    """The check above can fail: the same document with a malformed operation is refused."""
    broken = copy.deepcopy(load_document())
    broken["paths"]["/healthz"]["get"]["responses"] = {"ok": {"description": "not a status"}}
    with pytest.raises(Exception, match="ok"):
        schemathesis.openapi.from_dict(broken).validate()


def test_every_operation_is_named_and_answers_something() -> None:
    document = load_document()
    ids = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            assert operation.get("operationId"), f"{method} {path} has no operationId"
            assert operation.get("responses"), f"{method} {path} documents no response"
            ids.append(operation["operationId"])
    assert len(ids) == len(set(ids)), "operationIds repeat"


def test_discovery_advertises_only_documented_endpoints(tmp_path: Path) -> None:
    """Every endpoint the provider metadata names is a documented path."""
    import json

    from gatepass.web.app import discovery_document

    settings = settings_for("sqlite", tmp_path, POSTGRES_ADMIN_URL, "gpdoc:")
    metadata = json.loads(discovery_document(settings))
    paths = set(load_document()["paths"])
    for name, value in metadata.items():
        if name.endswith(("_endpoint", "_uri")) and isinstance(value, str):
            assert value.removeprefix(settings.issuer) in paths, name

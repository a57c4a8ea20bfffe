"""Redirect targets after login (web/pages.safe_next): same-site paths only, no open redirect."""

import pytest

from gatepass.web.pages import MAX_NEXT_LENGTH, safe_next

DEFAULT = "/account"


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("/account", id="a plain path"),
        pytest.param("/account/sessions?page=2#top", id="a path with a query and a fragment"),
        pytest.param("/a//b", id="a doubled slash after the first segment"),
        pytest.param("/%2F%2Fevil.example", id="encoded slashes stay a path"),
        pytest.param("/caf%C3%A9", id="percent-encoded unicode"),
        pytest.param("/" + "a" * (MAX_NEXT_LENGTH - 1), id="a path at the length limit"),
    ],
)
def test_a_same_site_path_is_kept(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        pytest.param(None, id="nothing"),
        pytest.param("", id="an empty value"),
        pytest.param("//evil.example", id="a scheme-relative url"),
        pytest.param("//evil.example/account", id="a scheme-relative url with a path"),
        pytest.param("/\\evil.example", id="a slash then a backslash"),
        pytest.param("https://evil.example", id="an absolute https url"),
        pytest.param("http://evil.example/account", id="an absolute http url"),
        pytest.param("javascript:alert(1)", id="a javascript url"),
        pytest.param("evil.example", id="a bare host"),
        pytest.param("\\\\evil.example", id="two backslashes"),
        pytest.param("/\t/evil.example", id="a tab that browsers strip"),
        pytest.param("/\n/evil.example", id="a newline"),
        pytest.param("/account\r\nSet-Cookie: x=1", id="a header injection"),
        pytest.param("/\x00", id="a NUL"),
        pytest.param("/" + "a" * MAX_NEXT_LENGTH, id="a path over the length limit"),
    ],
)
def test_anything_else_falls_back_to_the_default__rfc9700_4_11(target: str | None) -> None:
    assert safe_next(target) == DEFAULT


def test_the_default_can_be_chosen() -> None:
    assert safe_next("//evil.example", default="/") == "/"

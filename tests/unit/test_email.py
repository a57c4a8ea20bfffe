"""E-mail addresses (accounts/email.py): a light syntax check and one canonical form."""

import pytest

from gatepass.accounts.email import MAX_EMAIL_LENGTH, normalize_email
from gatepass.errors import ValidationError


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        pytest.param("ada@example.com", "ada@example.com", id="a plain address is kept"),
        pytest.param("  Ada@Example.COM \n", "ada@example.com", id="trimmed and lower-cased"),
        pytest.param("ada+gatepass@example.com", "ada+gatepass@example.com", id="plus tags"),
        pytest.param("a.b-c_d@mail.example.co.uk", "a.b-c_d@mail.example.co.uk", id="subdomains"),
        pytest.param("用户@例子.广告", "用户@例子.广告", id="an internationalized address"),
        pytest.param("x" * 64 + "@example.com", "x" * 64 + "@example.com", id="a 64-char local"),
    ],
)
def test_a_valid_address_is_normalized(raw: str, canonical: str) -> None:
    assert normalize_email(raw) == canonical


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("", id="empty"),
        pytest.param("ada", id="no at sign"),
        pytest.param("ada@", id="no domain"),
        pytest.param("@example.com", id="no local part"),
        pytest.param("ada@localhost", id="a domain without a dot"),
        pytest.param("ada@@example.com", id="two at signs"),
        pytest.param("ada@example..com", id="an empty domain label"),
        pytest.param("ada@example.com.", id="a trailing dot"),
        pytest.param("ada lovelace@example.com", id="a space inside"),
        pytest.param("ada\x00@example.com", id="a NUL byte"),
        pytest.param("ada@exa\rmple.com", id="a carriage return"),
        pytest.param("x" * 65 + "@example.com", id="a local part over 64 characters"),
        pytest.param(
            "x@" + "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 61,
            id="an address over 254 characters",
        ),
    ],
)
def test_an_invalid_address_is_refused__rfc5321(raw: str) -> None:
    with pytest.raises(ValidationError) as raised:
        normalize_email(raw)
    assert raised.value.field == "email"
    assert raised.value.message == "Enter a valid e-mail address."


def test_the_length_limit_is_254_characters__rfc5321_4_5_3_1_3() -> None:
    domain = "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + ".com"
    local = "x" * (MAX_EMAIL_LENGTH - len(domain) - 1)
    assert len(normalize_email(f"{local}@{domain}")) == MAX_EMAIL_LENGTH == 254

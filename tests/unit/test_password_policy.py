"""New-password rules (accounts/password_policy.py): NIST SP 800-63B length and blocklist."""

import pytest

from gatepass.accounts.password_policy import MAX_LENGTH, MIN_LENGTH, validate_new_password
from gatepass.errors import ValidationError

EMAIL = "ada.lovelace@example.com"
CONTEXT = (EMAIL, "ada.lovelace", "Ada Lovelace")
PASSPHRASE_64 = "velvet otters debate the lighthouse keeper about tuesday's fog!!"
PASSPHRASE_128 = (
    "seven crooked lanterns hum beneath the orchard while a patient heron counts copper "
    "buttons and the ferry waits for nobody at six"
)

ACCEPTED = [
    pytest.param("correct horse battery staple", id="a four-word passphrase is accepted"),
    pytest.param("Tr0ub4dor&3x", id="twelve mixed characters are accepted"),
    pytest.param("zq8#mTz!", id="eight characters are accepted"),
    pytest.param(PASSPHRASE_64, id="a 64-character passphrase is accepted"),
    pytest.param(PASSPHRASE_128, id="a 128-character passphrase is accepted"),
    pytest.param("x" * 7 + "yz" + "q" * (MAX_LENGTH - 9), id="the longest password is accepted"),
    pytest.param("ёжик в тумане", id="a cyrillic phrase is accepted"),
    pytest.param("🐙🦑🐚🦀🐠🐡🦈🐳", id="eight emoji are accepted"),
    pytest.param("correct horse password", id="a common word inside a phrase is accepted"),
    pytest.param(
        "ada.lovelace rides the night train to york",
        id="an e-mail name inside a phrase is accepted",
    ),
]

REFUSED_SHORT = [
    pytest.param("zq8#mTz", id="seven characters are refused"),
    pytest.param("", id="nothing is refused"),
    pytest.param("🐙🦑🐚🦀🐠🐡🦈", id="seven emoji are refused, counting characters not bytes"),
]

REFUSED_COMMON = [
    pytest.param("password1234", id="password1234 is refused"),
    pytest.param("Password1234!", id="a common word dressed with digits and a symbol is refused"),
    pytest.param("123456789012", id="a run of digits is refused"),
    pytest.param("9876543210", id="a falling run of digits is refused"),
    pytest.param("qwertyuiop", id="a keyboard row is refused"),
    pytest.param("aaaaaaaaaa", id="one repeated character is refused"),
    pytest.param("abcdefghij", id="a run of letters is refused"),
    pytest.param("sunshine", id="a common-list entry is refused"),
    pytest.param("iloveyou!", id="a common-list entry with punctuation is refused"),
    pytest.param("trustno1", id="another common-list entry is refused"),
    pytest.param("FOOTBALL", id="a common-list entry in capitals is refused"),
    pytest.param("qwerty123", id="a common-list keyboard pattern is refused"),
]

REFUSED_CONTEXT = [
    pytest.param("gatepass2024", id="the service name with a year is refused"),
    pytest.param("Gate-Pass!!", id="the service name dressed up is refused"),
    pytest.param("ada.lovelace!", id="the e-mail name is refused"),
    pytest.param("ada.lovelace@example.com", id="the e-mail address itself is refused"),
    pytest.param("ada lovelace 1", id="the person's name is refused"),
]


@pytest.mark.parametrize("password", ACCEPTED)
def test_acceptable_passwords__nist_800_63b(password: str) -> None:
    validate_new_password(password, context=CONTEXT)


@pytest.mark.parametrize("password", REFUSED_SHORT)
def test_passwords_under_eight_characters__nist_800_63b(password: str) -> None:
    with pytest.raises(ValidationError, match=f"at least {MIN_LENGTH} characters") as raised:
        validate_new_password(password)
    assert raised.value.field == "password"


def test_a_password_over_the_maximum_length_is_refused() -> None:
    with pytest.raises(ValidationError, match=f"at most {MAX_LENGTH} characters"):
        validate_new_password("correct horse " * 80)


@pytest.mark.parametrize("password", REFUSED_COMMON)
def test_common_or_predictable_passwords__nist_800_63b(password: str) -> None:
    with pytest.raises(ValidationError, match="too common") as raised:
        validate_new_password(password, context=CONTEXT)
    assert raised.value.field == "password"


@pytest.mark.parametrize("password", REFUSED_CONTEXT)
def test_passwords_built_from_the_service_or_the_account__nist_800_63b(password: str) -> None:
    with pytest.raises(ValidationError, match="service name or your e-mail"):
        validate_new_password(password, context=CONTEXT)


def test_the_same_password_without_that_account_is_accepted() -> None:
    validate_new_password("ada.lovelace!")


def test_context_words_under_four_characters_are_ignored() -> None:
    validate_new_password("bob says hi", context=("bob@example.com", "bob", "Bob"))


def test_the_passphrases_are_exactly_64_and_128_characters() -> None:
    assert (len(PASSPHRASE_64), len(PASSPHRASE_128)) == (64, 128)

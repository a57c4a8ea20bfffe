"""`restored`, the stores' fast way to build a Session, against the dataclass's own."""

import dataclasses

import pytest

from gatepass.sessions.model import FEDERATED_AMR, PASSWORD_AMR, Session, restored

CASES = [
    ("id-a", "user-1", 1_700_000_000.0, 1_700_000_050.5, 1_700_086_400.0, PASSWORD_AMR, None),
    ("id-b", "user-2", 12.0, 12.0, 13.0, FEDERATED_AMR, "github"),
    ("id-c", "user-3", 0.0, 1.25, 2.5, ("pwd", "otp"), None),
]


@pytest.mark.parametrize("fields", CASES)
def test_restored_equals_the_dataclass_built_session(fields: tuple) -> None:
    session_id, user_id, created, seen, ends, amr, idp = fields
    built = Session(
        id=session_id,
        user_id=user_id,
        created_at=created,
        last_seen_at=seen,
        absolute_expires_at=ends,
        amr=amr,
        idp=idp,
    )
    fast = restored(*fields)
    assert fast == built
    assert hash(fast) == hash(built)
    assert repr(fast) == repr(built)
    assert vars(fast) == vars(built)


def test_restored_sets_every_field_of_session() -> None:
    # A field added to Session and not set by `restored` would be missing on every
    # session a store decodes: an AttributeError far from here.
    names = {field.name for field in dataclasses.fields(Session)}
    assert set(vars(restored(*CASES[0]))) == names


def test_a_restored_session_is_as_frozen_as_any() -> None:
    session = restored(*CASES[1])
    with pytest.raises(dataclasses.FrozenInstanceError):
        session.user_id = "someone else"  # type: ignore[misc]
    assert dataclasses.replace(session, address="198.51.100.7").address == "198.51.100.7"

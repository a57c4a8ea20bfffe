"""The master key: from GATEPASS_SECRET_KEY or a 0600 key file, never shown, split by HKDF."""

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gatepass.config import Secret, Settings, load_settings
from gatepass.crypto.master_key import MasterKey, load_master_key
from gatepass.errors import ConfigError
from tests.support import SECRET_KEY


def test_the_key_file_is_created_0600_on_first_start_and_announced(tmp_path: Path) -> None:
    path = tmp_path / "gatepass.key"
    announced: list[Path] = []
    settings = Settings(key_file=str(path))
    key = load_master_key(settings, announced.append)
    assert announced == [path.resolve()]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == key.encoded()


def test_the_key_file_is_reused_not_replaced(tmp_path: Path) -> None:
    settings = Settings(key_file=str(tmp_path / "gatepass.key"))
    announced: list[Path] = []
    first = load_master_key(settings, announced.append)
    again = load_master_key(settings, announced.append)
    assert len(announced) == 1
    assert again.key_encryption_key() == first.key_encryption_key()


def test_the_default_key_file_is_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    load_master_key(Settings(), lambda _: None)
    assert (tmp_path / "gatepass.key").exists()


def test_the_secret_key_setting_wins_over_the_file(tmp_path: Path) -> None:
    settings = Settings(secret_key=Secret(SECRET_KEY), key_file=str(tmp_path / "gatepass.key"))
    load_master_key(settings)
    assert not (tmp_path / "gatepass.key").exists()


@pytest.mark.parametrize(
    "content", ["", "too-short", "not base64url!!", "A" * 20], ids=["empty", "short", "bad", "20"]
)
def test_a_bad_key_file_is_one_line_naming_the_setting(tmp_path: Path, content: str) -> None:
    path = tmp_path / "gatepass.key"
    path.write_text(content)
    with pytest.raises(ConfigError, match=r"^GATEPASS_KEY_FILE: ") as refused:
        load_master_key(Settings(key_file=str(path)))
    assert "\n" not in str(refused.value)


def test_an_unwritable_key_file_location_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^GATEPASS_KEY_FILE: cannot create"):
        load_master_key(Settings(key_file=str(tmp_path / "missing-dir" / "gatepass.key")))


@pytest.mark.parametrize(
    ("value", "reason"),
    [("c2hvcnQ", "too short"), ("not base64!", "base64url"), ("A" * 42, "too short")],
)
def test_a_bad_secret_key_is_one_line_naming_the_setting(value: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=r"^GATEPASS_SECRET_KEY: ") as refused:
        load_settings(environ={"GATEPASS_SECRET_KEY": value})
    assert reason in str(refused.value)


def test_the_secret_key_never_shows_in_a_repr() -> None:
    settings = load_settings(environ={"GATEPASS_SECRET_KEY": SECRET_KEY})
    assert SECRET_KEY not in repr(settings)
    assert "'**********'" in repr(settings)
    key = load_master_key(settings)
    assert repr(key) == str(key) == "'**********'"


def test_subkeys_are_distinct_deterministic_and_32_bytes() -> None:
    key = MasterKey(b"m" * 32)
    kek, hmac_key = key.key_encryption_key(), key.client_secret_key()
    assert len(kek) == len(hmac_key) == 32
    assert kek != hmac_key
    assert MasterKey(b"m" * 32).client_secret_key() == hmac_key
    assert MasterKey(b"n" * 32).client_secret_key() != hmac_key


def test_a_generated_master_key_is_256_bits_of_fresh_randomness() -> None:
    a, b = MasterKey.generate(), MasterKey.generate()
    assert a.encoded() != b.encoded()
    assert len(a.encoded()) == 43
    with pytest.raises(ValueError, match="at least 32 bytes"):
        MasterKey(os.urandom(16))


def test_workers_racing_on_first_start_end_up_with_one_key(tmp_path: Path) -> None:
    settings = Settings(key_file=str(tmp_path / "gatepass.key"))
    announced: list[Path] = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = list(pool.map(lambda _: load_master_key(settings, announced.append), range(8)))
    assert len({key.encoded() for key in keys}) == 1
    assert len(announced) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["gatepass.key"]  # no temporary left

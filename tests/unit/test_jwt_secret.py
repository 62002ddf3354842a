"""The API's signing key: generated per system in the state directory; the repository's key only in tests."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from aiff.api.security import InvalidToken, create_access_token, decode_access_token
from aiff.settings import DEV_JWT_SECRET, Settings


def _dev(state: Path) -> Settings:
    return Settings(AIFF_ENV="development", AIFF_STATE_DIR=state, JWT_SECRET_KEY="")


def test_a_system_refuses_tokens_signed_with_the_repositorys_key(tmp_path: Path) -> None:
    settings = _dev(tmp_path)
    forged, _ = create_access_token(Settings(AIFF_ENV="test"), user_id=999_999, username="ghost", role="admin", team_id=None)
    with pytest.raises(InvalidToken):
        decode_access_token(settings, forged)
    own, _ = create_access_token(settings, user_id=1, username="admin", role="admin", team_id=None)
    assert decode_access_token(settings, own).role == "admin"


def test_the_key_is_generated_once_in_the_state_dir_and_private(tmp_path: Path) -> None:
    key = _dev(tmp_path).jwt_key
    path = tmp_path / "jwt-secret"
    assert key != DEV_JWT_SECRET and len(key) >= 32 and path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _dev(tmp_path).jwt_key == key  # the API, the CLI and the benches started later agree
    assert _dev(tmp_path / "other").jwt_key != key  # another system, another key


def test_only_tests_use_the_fixed_key(tmp_path: Path) -> None:
    assert Settings(AIFF_ENV="test", JWT_SECRET_KEY="").jwt_key == DEV_JWT_SECRET
    for env in ("development", "production"):
        with pytest.raises(ValidationError, match="JWT_SECRET_KEY"):
            Settings(AIFF_ENV=env, AIFF_STATE_DIR=tmp_path, JWT_SECRET_KEY=DEV_JWT_SECRET)
    with pytest.raises(ValidationError, match="JWT_SECRET_KEY"):
        Settings(AIFF_ENV="production", JWT_SECRET_KEY="")
    assert Settings(AIFF_ENV="development", JWT_SECRET_KEY="x" * 40).jwt_key == "x" * 40

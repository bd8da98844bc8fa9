"""The control token: configured, generated once (0600, logged once), reused, never weak."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from agent.config import Config, load_config
from agent.web.errors import TokenFileError
from agent.web.token import load_or_create_token, token_matches

MINIMAL = Path(__file__).parents[2] / "configs" / "minimal.yaml"


def config(tmp_path: Path, extra: str = "") -> Config:
    path = tmp_path / "hems.yaml"
    path.write_text(MINIMAL.read_text() + f"\nstate_dir: {tmp_path / 'state'}\n" + extra)
    return load_config(path)


def test_generated_once_private_and_logged_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = config(tmp_path)
    with caplog.at_level(logging.WARNING, logger="agent.web.token"):
        first = load_or_create_token(cfg)
        second = load_or_create_token(cfg)
    assert first == second and len(first) >= 40
    path = tmp_path / "state" / "web-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [r for r in caplog.records if first in r.getMessage()] != []
    assert sum(first in r.getMessage() for r in caplog.records) == 1


def test_configured_token_wins_and_no_file_is_made(tmp_path: Path) -> None:
    cfg = config(tmp_path, "web:\n  token: a-configured-token-0123\n")
    assert load_or_create_token(cfg) == "a-configured-token-0123"
    assert not (tmp_path / "state" / "web-token").exists()


def test_token_file_setting_and_loose_permissions_tightened(tmp_path: Path) -> None:
    token_file = tmp_path / "tok"
    token_file.write_text("0123456789abcdef-from-file\n")
    token_file.chmod(0o644)
    cfg = config(tmp_path, f"web:\n  token_file: {token_file}\n")
    assert load_or_create_token(cfg) == "0123456789abcdef-from-file"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_a_short_token_file_is_refused(tmp_path: Path) -> None:
    # An empty or placeholder file must not make "" (or "x") the key to the controls.
    token_file = tmp_path / "tok"
    token_file.write_text("\n")
    token_file.chmod(0o600)
    cfg = config(tmp_path, f"web:\n  token_file: {token_file}\n")
    with pytest.raises(TokenFileError, match="shorter"):
        load_or_create_token(cfg)


def test_token_matches() -> None:
    assert token_matches("abc", "abc")
    assert not token_matches("abd", "abc")
    assert not token_matches(None, "abc")
    assert not token_matches("", "abc")

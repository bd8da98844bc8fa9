"""The control token: configured, or generated once into the state directory.

A generated token is 32 random bytes (URL-safe base64), written with mode 0600 by an exclusive
create so two starting processes never overwrite each other's, and logged once when it is made:
the householder copies it into the page's control panel. The page sends it in a header, never a
cookie, so a cross-site form or image cannot carry it.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import stat
from pathlib import Path

from agent.config import Config
from agent.web.errors import TokenFileError

log = logging.getLogger(__name__)

TOKEN_FILE_NAME = "web-token"
# A token shorter than this is refused from a file: a truncated or placeholder file must not
# open the controls to anyone who guesses an empty string.
MIN_TOKEN_CHARS = 16


def token_path(config: Config) -> Path:
    return config.web.token_file or config.state_dir / TOKEN_FILE_NAME


def load_or_create_token(config: Config) -> str:
    """The configured token, else the one in the token file, else a new one written there."""
    if config.web.token is not None:
        return config.web.token.get_secret_value()
    path = token_path(config)
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    token = secrets.token_urlsafe(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)  # another process made it between our read and create
    except OSError as e:
        raise TokenFileError(f"cannot create the web token file {path}: {e}") from e
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    # Printed once, at creation: the only time it appears in the log.
    log.warning("web control token generated (stored in %s, mode 0600): %s", path, token)
    return token


def _read(path: Path) -> str:
    try:
        mode = path.stat().st_mode
        text = path.read_text().strip()
    except FileNotFoundError:
        raise
    except OSError as e:
        raise TokenFileError(f"cannot read the web token file {path}: {e}") from e
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("web token file %s is readable by others; tightening it to 0600", path)
        try:
            path.chmod(0o600)
        except OSError as e:
            raise TokenFileError(f"cannot restrict the web token file {path}: {e}") from e
    if len(text) < MIN_TOKEN_CHARS:
        raise TokenFileError(f"the web token in {path} is shorter than {MIN_TOKEN_CHARS} characters")
    return text


def token_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison, so the token cannot be found byte by byte from response times."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())

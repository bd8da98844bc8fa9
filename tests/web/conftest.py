"""One running home for the web tests (starting it compiles the planner's QP: once per session)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.web.home import WebHome


@pytest.fixture(scope="session")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebHome]:
    with WebHome(tmp_path_factory.mktemp("webhome")) as h:
        yield h

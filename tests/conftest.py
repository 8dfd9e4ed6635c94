"""Test-wide settings: every test run gets its own IVR_HOME (databases, logs) so tests
never touch the user's data and never depend on what an earlier run left behind. The folder
is made at import (modules may read IVR_HOME as they are collected) and removed when pytest
ends, so runs do not pile up /tmp/ivr-test-home-* folders."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_home = tempfile.mkdtemp(prefix="ivr-test-home-")
os.environ["IVR_HOME"] = _home
os.environ.setdefault("IVR_CACHE", str(Path(_home) / "cache"))


def pytest_unconfigure(config) -> None:
    """The run is over (every test and the subprocesses they waited for): drop its IVR_HOME."""
    shutil.rmtree(_home, ignore_errors=True)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def ivr_home() -> Path:
    return Path(_home)

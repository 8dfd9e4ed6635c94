"""Test-wide settings: every test run gets its own IVR_HOME (databases, logs) so tests
never touch the user's data and never depend on what an earlier run left behind."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_home = tempfile.mkdtemp(prefix="ivr-test-home-")
os.environ["IVR_HOME"] = _home
os.environ.setdefault("IVR_CACHE", str(Path(_home) / "cache"))


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def ivr_home() -> Path:
    return Path(_home)

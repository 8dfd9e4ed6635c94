"""tests/conftest.py gives each pytest run its own IVR_HOME and removes it when the run ends
(runs used to leave a /tmp/ivr-test-home-* folder behind each)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PROBE = '''
import os
from pathlib import Path


def test_home_is_ours_and_usable():
    home = Path(os.environ["IVR_HOME"])
    assert home.is_dir() and home.name.startswith("ivr-test-home-")
    (home / "calls.db").write_text("x")
    (home / "cache").mkdir(exist_ok=True)
    Path(os.environ["PROBE_OUT"]).write_text(str(home))
'''


def test_run_home_exists_during_the_run(ivr_home):
    assert ivr_home.is_dir() and os.environ["IVR_HOME"] == str(ivr_home)


def test_run_home_is_removed_when_pytest_ends(tmp_path, repo):
    shutil.copy(repo / "tests" / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_probe.py").write_text(PROBE, encoding="utf-8")
    out = tmp_path / "home.txt"
    env = {k: v for k, v in os.environ.items() if k not in ("IVR_HOME", "IVR_CACHE", "PYTEST_ADDOPTS")}
    env["PROBE_OUT"] = str(out)
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_probe.py"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    home = Path(out.read_text())
    assert home.name.startswith("ivr-test-home-") and home != Path(os.environ["IVR_HOME"])
    assert not home.exists(), f"{home} left behind"

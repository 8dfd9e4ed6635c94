#!/usr/bin/env bash
# The test suite against the NEWEST releases of every dependency (not the lock): a separate
# virtualenv .venv-latest, resolved fresh from pyproject.toml's ranges. Not part of CI; run it
# before refreshing the lock (scripts/lock.sh) to see what a new release breaks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh            # system packages (and the pinned .venv, unused here)
rm -rf .venv-latest
python3 -m venv .venv-latest
.venv-latest/bin/python -m pip install -q --upgrade pip
.venv-latest/bin/python -m pip install -q --upgrade -e ".[dev]"
.venv-latest/bin/python -m pip freeze | grep -v '^-e' > .venv-latest/versions.txt
echo "test-latest: $(wc -l < .venv-latest/versions.txt) packages, newest allowed versions" >&2
exec .venv-latest/bin/python -m pytest "$@"

#!/usr/bin/env bash
# Refresh requirements.lock: resolve pyproject.toml's dependencies (with the dev extra and the
# build backend) to the newest versions allowed, with sha256 hashes of every file.
# Run after changing dependencies in pyproject.toml, then `bash scripts/test.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=.cache/lock-venv
[ -x "$tools/bin/pip-compile" ] || { python3 -m venv "$tools" && "$tools/bin/pip" install -q "pip-tools==7.6.2"; }
"$tools/bin/pip-compile" -q --generate-hashes --allow-unsafe --extra dev --all-build-deps \
  --strip-extras --no-emit-index-url --no-emit-find-links --upgrade -o requirements.lock pyproject.toml
echo "lock: $(grep -c '^[A-Za-z0-9_.-]*==' requirements.lock) packages pinned in requirements.lock" >&2

#!/usr/bin/env bash
# Idempotent set-up: system packages (apt) and a virtualenv in .venv with every Python
# package ivr needs. Both README commands call this first, so a fresh Debian machine needs
# nothing else. Re-running it is cheap: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PKGS=(espeak-ng graphviz sox libsndfile1 libportaudio2 libasound2-plugins multimon-ng pulseaudio pulseaudio-utils
          asterisk-core-sounds-en-wav asterisk-moh-opsound-wav baresip sip-tester kamailio)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$PY" -m venv .venv
fi
# Every Python package at the exact version and hash in requirements.lock (refresh it with
# scripts/lock.sh); then ivr itself, editable, with no dependency resolution of its own.
stamp=.venv/.ivr-setup-stamp
want=$(cat pyproject.toml requirements.lock scripts/setup.sh | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages into .venv (pinned by requirements.lock)" >&2
  .venv/bin/python -m pip install -q --require-hashes --no-deps -r requirements.lock >&2
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e . >&2
  echo "$want" > "$stamp"
fi

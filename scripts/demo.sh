#!/usr/bin/env bash
# Set up everything (first run only), then call the VIKA 165 tree.
# In a terminal: an interactive keypad call (keys 0-9 * #, q hangs up).
# Without a terminal (or with --scripted): scripted demo calls with printed transcripts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
IVR=.venv/bin/ivr
if [ -t 0 ] && [ "${1:-}" != "--scripted" ]; then
  exec "$IVR" call --tree menus/vika.yaml "$@"
fi
echo "== Demo 1: status kepesertaan (menu 1, 1; NIK + tanggal lahir of a synthetic participant) =="
"$IVR" call --tree menus/vika.yaml --today 2026-11-23 --keys "1 1 $(.venv/bin/python -m ivr.jkn.demo nik aktif)# $(.venv/bin/python -m ivr.jkn.demo dob aktif) 9"
echo
echo "== Demo 2: an invalid NIK three times =="
"$IVR" call --tree menus/vika.yaml --keys "1 1 1234567890123456# 1234567890123456# 1234567890123456#"
echo
echo "== Demo 3: ganti kelas through the agent menu =="
"$IVR" call --tree menus/vika.yaml --keys "3 4"

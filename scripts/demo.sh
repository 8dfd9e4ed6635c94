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
# Demo participants are fixed in every generated database (see README, "Participants").
echo "== Demo 1: status kepesertaan of a participant 3 months in arrears (keys 1, 1, NIK#, date of birth, 9) =="
"$IVR" call --tree menus/vika.yaml --today 2026-11-23 --keys "1 1 3273011708850003# 17081985 9"
echo
echo "== Demo 2: an invalid NIK three times =="
"$IVR" call --tree menus/vika.yaml --keys "1 1 1234567890123456# 1234567890123456# 1234567890123456#"
echo
echo "== Demo 3: ganti kelas at night (keys 3 agent services, 2 data changes, 2 class): the caller waits in the agent queue, then the agent refuses (registered < 1 year) =="
"$IVR" call --tree menus/vika.yaml --today 2026-11-23 --hour 22 --queue-seed 1 --then silence \
  --keys "3 2 2 w 3471020911000007# 1"
echo
echo "== Demo 4: a recorded caller (audio_fixtures/status_aktif.wav), with a stereo call recording =="
"$IVR" call --tree menus/vika.yaml --today 2026-11-23 --no-queue --wav audio_fixtures/status_aktif.wav --out-wav /tmp/ivr-demo-call.wav

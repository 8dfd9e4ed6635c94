#!/usr/bin/env bash
# N `ivr serve` instances behind Kamailio's dispatcher, all on loopback.
#
#   bash scripts/serve-cluster.sh N [--port 5060] [--base-port 5071] [ivr serve options...]
#
# Kamailio listens on 127.0.0.1:PORT (default 5060) and spreads calls over the instances on
# 127.0.0.1:BASE..BASE+N-1 (deploy/kamailio/kamailio.cfg: the instance is chosen by a hash of
# the Call-ID, so every request of a call reaches the same one). Options after these go to
# every `ivr serve` (e.g. --max-calls 200 --no-tts --log-dir DIR). Each instance has its own
# agent queue, as each site of a multi-site contact centre has its own agents (README).
# Ctrl-C (or SIGTERM) stops Kamailio and every instance. Prints "cluster ready" on stderr
# once all instances answer and Kamailio runs.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "serve-cluster: $*" >&2; exit 2; }
[ $# -ge 1 ] || die "usage: bash scripts/serve-cluster.sh N [--port P] [--base-port B] [ivr serve options]"
N=$1; shift
[[ "$N" =~ ^[0-9]+$ ]] && [ "$N" -ge 1 ] && [ "$N" -le 32 ] || die "N must be a number of instances from 1 to 32, got '$N'"
PORT=5060; BASE=5071
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT=${2:-}; shift 2 ;;
    --base-port) BASE=${2:-}; shift 2 ;;
    *) break ;;
  esac
done
for p in "$PORT" "$BASE"; do
  [[ "$p" =~ ^[0-9]+$ ]] && [ "$p" -ge 1 ] && [ "$p" -le 65535 ] || die "ports must be numbers from 1 to 65535, got '$p'"
done
[ $((BASE + N - 1)) -le 65535 ] || die "--base-port $BASE + $N instances runs past port 65535"
command -v kamailio >/dev/null || die "kamailio is missing (Debian package kamailio; scripts/setup.sh installs it)"
PY=.venv/bin/python
[ -x "$PY" ] || PY=python3

RUN=$(mktemp -d -t ivr-cluster-XXXXXX)
pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

: > "$RUN/dispatcher.list"
for i in $(seq 0 $((N - 1))); do
  p=$((BASE + i))
  echo "1 sip:127.0.0.1:$p" >> "$RUN/dispatcher.list"
  "$PY" -m ivr serve --sip "127.0.0.1:$p" "$@" 2> >(sed -u "s/^/[ivr $p] /" >&2) &
  pids+=($!)
done
# each instance says "answers SIP" when it listens: wait for all (bounded)
for i in $(seq 0 $((N - 1))); do
  p=$((BASE + i)); ok=""
  for _ in $(seq 1 600); do
    if "$PY" - "$p" <<'EOF' 2>/dev/null; then ok=1; break; fi
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.2); s.bind(("127.0.0.1", 0))
port = int(sys.argv[1])
s.sendto((f"OPTIONS sip:165@127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{s.getsockname()[1]};branch=z9hG4bKprobe\r\n"
          f"From: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:165@127.0.0.1>\r\nCall-ID: probe-{port}\r\nCSeq: 1 OPTIONS\r\n"
          "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode(), ("127.0.0.1", port))
sys.exit(0 if s.recv(4096).startswith(b"SIP/2.0 200") else 1)
EOF
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || die "an ivr serve instance stopped (see its lines above)"; done
    sleep 0.2
  done
  [ -n "$ok" ] || die "ivr serve on 127.0.0.1:$p did not answer in 2 minutes"
done
kamailio -f deploy/kamailio/kamailio.cfg -DD -E -Y "$RUN" -P "$RUN/kamailio.pid" -m 64 -M 8 \
  -A "SIP_PORT=$PORT" -A "DISPATCHER_LIST=\"$RUN/dispatcher.list\"" 2> "$RUN/kamailio.log" &
# (a log file, not a pipe through sed: Kamailio waits for all its child processes at exit,
# and a process substitution would be one of them)
pids+=($!)
for _ in $(seq 1 50); do grep -q "Listening on" "$RUN/kamailio.log" 2>/dev/null && break; sleep 0.1; done
if ! kill -0 "${pids[-1]}" 2>/dev/null; then
  sed "s/^/[kamailio] /" "$RUN/kamailio.log" >&2
  die "kamailio did not start (its log is above)"
fi
echo "serve-cluster: cluster ready: call sip:165@127.0.0.1:$PORT ($N ivr serve instances on 127.0.0.1:$BASE-$((BASE + N - 1)))" >&2
wait -n "${pids[@]}" || true
echo "serve-cluster: a process stopped; stopping the cluster" >&2

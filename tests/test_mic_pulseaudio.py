"""`ivr call --mic` for real, through PulseAudio: a null sink is the loudspeaker (its monitor
records the prompts) and a pipe source is the microphone, fed by this test with a caller who
presses keys and speaks. The call runs in real time (about 45 s)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

RATE = 16000


@pytest.fixture()
def pulse(tmp_path):
    assert shutil.which("pulseaudio") and shutil.which("pactl"), "scripts/setup.sh installs pulseaudio"
    env = dict(os.environ, HOME=str(tmp_path), XDG_RUNTIME_DIR=str(tmp_path),
               PULSE_RUNTIME_PATH=str(tmp_path / "pulse"), PULSE_STATE_PATH=str(tmp_path / "state"))
    subprocess.run(["pulseaudio", "-D", "--exit-idle-time=-1", "--system=false", "--disallow-exit", "-n",
                    "--load=module-native-protocol-unix", "--load=module-null-sink sink_name=vspk"],
                   env=env, check=True, capture_output=True, timeout=30)
    fifo = tmp_path / "mic.fifo"
    try:
        for _ in range(100):   # the daemon forks; wait until it answers
            if subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0:
                break
            time.sleep(0.05)
        subprocess.run(["pactl", "load-module", "module-pipe-source", "source_name=vmic", f"file={fifo}",
                        "format=s16le", f"rate={RATE}", "channels=1"], env=env, check=True, capture_output=True)
        subprocess.run(["pactl", "set-default-source", "vmic"], env=env, check=True)
        subprocess.run(["pactl", "set-default-sink", "vspk"], env=env, check=True)
        yield env, fifo
    finally:
        subprocess.run(["pulseaudio", "--kill"], env=env, capture_output=True, timeout=30)


def _caller_audio(repo) -> np.ndarray:
    sys.path.insert(0, str(repo / "audio_fixtures"))
    from make_fixtures import Caller

    c = Caller(rate=RATE, seed=9).pause(13).keys("1").pause(1.5).say("status kepesertaan").pause(2.0) \
        .keys("3174054508900002#").pause(1.5).keys("05081990").pause(1.0)
    return c.audio()


def _feed(fifo, signal: np.ndarray, stop: threading.Event) -> None:
    """Write PCM into the pipe source at real-time pace, then silence until told to stop."""
    pcm = (np.clip(signal, -1, 1) * 32767).astype("<i2").tobytes()
    step = RATE // 50 * 2   # 20 ms
    fd = os.open(fifo, os.O_WRONLY)
    try:
        t0 = time.monotonic()
        n = 0
        while not stop.is_set():
            chunk = pcm[n * step:(n + 1) * step] or bytes(step)
            os.write(fd, chunk.ljust(step, b"\0"))
            n += 1
            delay = t0 + n * 0.02 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    finally:
        os.close(fd)


def test_mic_call_keys_and_speech_reach_status(pulse, repo, tmp_path):
    env, fifo = pulse
    env = dict(env, IVR_HOME=str(tmp_path / "home"), IVR_CACHE=os.environ.get("IVR_CACHE", str(tmp_path / "c")))
    signal = _caller_audio(repo)
    stop = threading.Event()
    feeder = threading.Thread(target=_feed, args=(fifo, signal, stop), daemon=True)
    captured = tmp_path / "prompts.raw"
    with open(captured, "wb") as cap:
        rec = subprocess.Popen(["parec", "-d", "vspk.monitor", "--format=s16le", f"--rate={RATE}", "--channels=1"],
                               env=env, stdout=cap)
        proc = subprocess.Popen([sys.executable, "-m", "ivr", "call", "--mic", "--no-queue", "--no-log", "--json",
                                 "--today", "2026-11-23", "--max-seconds", "45"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            banner = proc.stdout.readline()          # the call has opened the devices
            assert "panggilan dimulai" in banner, banner + proc.stderr.read()
            feeder.start()
            rest, err = proc.communicate(timeout=240)
        finally:
            stop.set()
            if proc.poll() is None:
                proc.kill()
            rec.terminate()
            rec.wait(timeout=10)
            if feeder.is_alive():
                feeder.join(timeout=10)
    out = banner + rest
    assert proc.returncode == 0, out[-2000:] + err[-2000:]
    assert '"Status kepesertaan' in out or '"status kepesertaan' in out, out   # spoken answer
    assert "Penelepon: ****************#" in out, out                          # DTMF answer, masked
    assert "atas nama Siti" in out and "Belum ada tagihan" in out
    res = json.loads(out.strip().splitlines()[-1])
    assert "status_aktif" in res["path"] and "menu_mandiri" in res["path"]
    # the prompts came out of the loudspeaker: the monitor recorded speech, not silence
    audio = np.frombuffer(captured.read_bytes(), dtype="<i2").astype(np.float32) / 32768
    assert len(audio) > RATE * 20
    frames = audio[: len(audio) // RATE * RATE].reshape(-1, RATE)
    loud = (np.sqrt((frames ** 2).mean(axis=1)) > 0.01).sum()
    assert loud >= 15, f"only {loud} s of prompt audio captured"


def test_mic_without_devices_names_the_problem(tmp_path):
    env = dict(os.environ, HOME=str(tmp_path), XDG_RUNTIME_DIR=str(tmp_path),
               PULSE_SERVER=f"unix:{tmp_path}/no-such-server", IVR_HOME=str(tmp_path / "home"))
    r = subprocess.run([sys.executable, "-m", "ivr", "call", "--mic", "--no-log", "--speech", "off"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.startswith("ivr: error:") and "device" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "ivr", "call", "--mic", "--input-device", "nonexistent-mic",
                        "--no-log", "--speech", "off"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "nonexistent-mic" in r.stderr


def test_keypad_call_speaks_prompts_on_the_sound_device(pulse, tmp_path):
    """With a sound device, the interactive keypad call speaks its prompts (TTS) while the
    keys still come from the terminal."""
    import pty

    from test_keypad_tty import _read_until

    env, _fifo = pulse
    env = dict(env, IVR_HOME=str(tmp_path / "home"), IVR_CACHE=os.environ.get("IVR_CACHE", str(tmp_path / "c")),
               TERM="xterm")
    captured = tmp_path / "speaker.raw"
    master, slave = pty.openpty()
    with open(captured, "wb") as cap:
        rec = subprocess.Popen(["parec", "-d", "vspk.monitor", "--format=s16le", f"--rate={RATE}", "--channels=1"],
                               env=env, stdout=cap)
        proc = subprocess.Popen([sys.executable, "-m", "ivr", "call", "--no-queue", "--no-log"],
                                stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
        os.close(slave)
        buf: list[str] = []
        try:
            text = _read_until(master, "sisa percobaan 3", buf, timeout=60)
            assert "text only" not in text        # no fallback notice: a device was found
            # the welcome cannot be interrupted: keep pressing 2 until the menu prompt (which
            # allows barge-in) is playing and takes it
            for _ in range(40):
                os.write(master, b"2")
                try:
                    _read_until(master, "Informasi program JKN", buf, timeout=1.0)
                    break
                except AssertionError:
                    continue
            else:
                raise AssertionError("the menu never took the key: " + "".join(buf)[-1500:])
            os.write(master, b"q")
            _read_until(master, "caller-hangup", buf)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
            os.close(master)
            rec.terminate()
            rec.wait(timeout=10)
    audio = np.frombuffer(captured.read_bytes(), dtype="<i2").astype(np.float32) / 32768
    frames = audio[: len(audio) // RATE * RATE].reshape(-1, RATE)
    loud = (np.sqrt((frames ** 2).mean(axis=1)) > 0.01).sum()
    assert loud >= 3, f"only {loud} s of prompt audio on the speaker"

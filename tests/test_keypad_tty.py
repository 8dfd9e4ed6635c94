"""The interactive keypad call in a real pseudo-terminal: keys without Enter, prompts as
text, a status line, hang-up with q. No sleeping: the test waits on the terminal's output."""
from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time


def _read_until(fd: int, needle: str, buf: list[str], timeout: float = 30.0) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        text = "".join(buf)
        if needle in text:
            return text
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            buf.append(data.decode("utf-8", "replace"))
    raise AssertionError(f"did not see {needle!r}; got: {''.join(buf)[-2000:]}")


def _spawn(tmp_path):
    """`ivr call` on a fresh pseudo-terminal: (process, terminal fd)."""
    master, slave = pty.openpty()
    env = dict(os.environ, IVR_HOME=str(tmp_path), TERM="xterm")
    proc = subprocess.Popen([sys.executable, "-m", "ivr", "call", "--no-audio", "--no-queue", "--no-log"],
                            stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    return proc, master


def _finish(proc, master) -> None:
    if proc.poll() is None:
        proc.kill()
    os.close(master)


def test_interactive_keypad_call(tmp_path):
    proc, master = _spawn(tmp_path)
    buf: list[str] = []
    try:
        _read_until(master, "Berbicara dengan agen, tekan 0", buf)
        text = _read_until(master, "sisa percobaan 3", buf)        # status line: node and retries left
        assert "[menu_utama (menu)" in text
        os.write(master, b"7")                                      # not an option
        _read_until(master, "pilihan Anda tidak tersedia", buf)
        _read_until(master, "sisa percobaan 2", buf)
        os.write(master, b"2")                                      # no Enter needed
        _read_until(master, "Informasi program JKN", buf)
        os.write(master, b"1")
        _read_until(master, "Kelas 1 Rp150.000", buf)
        _read_until(master, "tekan 9", buf)
        os.write(master, b"9")
        _read_until(master, "Terima kasih telah menghubungi", buf)
        proc.wait(timeout=30)
    finally:
        _finish(proc, master)
    assert proc.returncode == 0


def test_interactive_hangup_with_q(tmp_path):
    proc, master = _spawn(tmp_path)
    buf: list[str] = []
    try:
        _read_until(master, "sisa percobaan", buf)
        os.write(master, b"q")
        _read_until(master, "caller-hangup", buf)
        proc.wait(timeout=30)
    finally:
        _finish(proc, master)
    assert proc.returncode == 0

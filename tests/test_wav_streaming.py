"""`ivr call --wav` reads its input block by block (issue 10, section 3): memory does not grow
with the input's length, an endless pipe ends at the call's end, and block reading gives
the same call as reading the whole file. Memory is measured in a child process (its own
peak RSS, VmHWM), so other tests cannot disturb the figure."""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import struct
import subprocess
import sys
import threading

import numpy as np
import pytest

from ivr.cli import main
from ivr.dsp.audio import HEAD_BYTES, AudioError, open_audio_stream, write_wav
from ivr.drivers.runtime import CallRuntime
from ivr.drivers.speech_input import MAX_LEAD_S, RecognizerInput
from ivr.drivers.timeline import EstimatedVoice
from ivr.drivers.wavfile import AudioCall, load_caller_audio, open_call_audio
from ivr.grammar import Grammar
from ivr.tree.loader import load_tree

#: The child reports its own peak (VmHWM of its address space). Not ru_maxrss: Linux carries
#: that over fork and exec, so a child of a big pytest process would report the parent's peak.
CHILD = ("import sys\nfrom ivr.cli import main\nrc = main(sys.argv[1:])\n"
         "hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
         "print('MAXRSS_KB', hwm[0], file=sys.stderr)\n"
         "sys.exit(rc)\n")


@pytest.fixture()
def fixtures_dir(repo):
    return repo / "audio_fixtures"


CALL = ["call", "--no-log", "--no-queue", "--no-tts", "--speech", "off", "--today", "2026-11-23", "--json"]


def _header_ffff(rate: int = 8000) -> bytes:
    """A WAV header whose sizes say 0xFFFFFFFF (a streaming writer's placeholder)."""
    return (b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + b"fmt "
            + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) + b"data" + struct.pack("<I", 0xFFFFFFFF))


def _child(args, feed=None, timeout=120):
    """Run `ivr ARGS` in a child; `feed(stdin)` writes its input (endless ones stop at a broken
    pipe). Returns (rc, stdout, stderr, peak RSS in MB)."""
    r = w = None
    if feed:   # our own pipe: communicate() would close a Popen stdin at once
        r, w = os.pipe()
    p = subprocess.Popen([sys.executable, "-c", CHILD, *args], stdin=r if feed else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if feed:
        os.close(r)

        def writer():
            with os.fdopen(w, "wb", buffering=0) as f:
                try:
                    feed(f)
                except (BrokenPipeError, OSError, ValueError):
                    pass
        threading.Thread(target=writer, daemon=True).start()
    out, err = p.communicate(timeout=timeout)
    err = err.decode()
    assert "Traceback" not in err, err
    rss = [int(line.split()[1]) / 1024 for line in err.splitlines() if line.startswith("MAXRSS_KB")]
    return p.returncode, out.decode(), err, (rss[0] if rss else None)


def _outcome(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_the_baseline_peak_of_a_short_call(fixtures_dir):
    rc, out, err, rss = _child(CALL + ["--wav", str(fixtures_dir / "salah_tiga_kali.wav")])
    assert rc == 0 and _outcome(out)["outcome"] == "transfer"
    assert rss < 200


def test_endless_stdin_with_a_4gb_header_is_bounded(fixtures_dir):
    """Header 0xFFFFFFFF, then zeros for ever: silence, so the call ends by its timeouts
    (~87 s of audio); reading stops there. Before streaming, this reached 2.5 GB in 3.6 s."""
    def feed(w):
        w.write(_header_ffff())
        zeros = bytes(1 << 20)
        while True:
            w.write(zeros)
    rc, out, err, rss = _child(CALL + ["--wav", "-"], feed)
    assert rc == 0 and _outcome(out)["outcome"] == "transfer"
    assert rss < 200


def test_endless_stdin_ends_at_the_call_limit(tmp_path):
    tree = tmp_path / "pingpong.yaml"
    tree.write_text("version: 1\nstart: a\nglobal_keys: {agent: null}\nnodes:\n"
                    "  a: {type: menu, prompt: 'Menu A.', options: {'1': {goto: b}}, on_exceeded: {goto: b}}\n"
                    "  b: {type: menu, prompt: 'Menu B.', options: {'1': {goto: a}}, on_exceeded: {goto: a}}\n")

    def feed(w):
        w.write(_header_ffff())
        zeros = bytes(1 << 20)
        while True:
            w.write(zeros)
    rc, out, err, rss = _child(CALL + ["--tree", str(tree), "--wav", "-", "--max-call-seconds", "300"], feed)
    res = _outcome(out)
    assert rc == 0 and res["outcome"] == "max-duration" and res["duration"] == pytest.approx(300.0)
    assert rss < 200


def test_an_hour_long_file_is_read_only_as_far_as_the_call_goes(tmp_path, fixtures_dir):
    caller, rate = load_caller_audio(fixtures_dir / "salah_tiga_kali.wav")
    p = tmp_path / "hour.wav"
    import soundfile as sf

    with sf.SoundFile(str(p), "w", rate, 1, "PCM_16") as f:
        f.write(caller)
        silence = np.zeros(rate * 600, np.float32)
        for _ in range(6):
            f.write(silence)
    assert p.stat().st_size > 50e6
    rc, out, err, rss = _child(CALL + ["--wav", str(p)])
    assert rc == 0 and _outcome(out)["outcome"] == "transfer"
    assert rss < 200
    rc2, out2, _, _ = _child(CALL + ["--wav", str(fixtures_dir / "salah_tiga_kali.wav")])
    assert _outcome(out2)["path"] == _outcome(out)["path"]


def test_dev_zero_is_refused_at_once(capsys):
    rc = main(CALL + ["--wav", "/dev/zero"])
    _, err = capsys.readouterr()
    assert rc == 2 and err.count("\n") == 1 and "/dev/zero: not an audio file" in err


def test_a_3000_hz_recording_is_a_one_line_error_like_dtmf_detect(tmp_path, capsys):
    p = tmp_path / "low.wav"
    write_wav(p, np.zeros(3000, np.float32), 3000)
    rc = main(CALL + ["--wav", str(p)])
    _, err = capsys.readouterr()
    assert rc == 2 and err.count("\n") == 1
    assert f"{p}: sample rate 3000 Hz is too low for DTMF" in err
    rc = main(["dtmf", "detect", str(p)])
    _, err2 = capsys.readouterr()
    assert rc == 2 and "sample rate 3000 Hz is too low for DTMF" in err2


def test_a_recording_past_384_khz_is_a_one_line_error_like_dtmf_detect(tmp_path, capsys):
    """A call from a 500 kHz recording said the rate was too low; the detector's own rule
    (dtmf.check_rate) now words it for calls and `ivr dtmf detect` alike."""
    p = tmp_path / "high.wav"
    write_wav(p, np.zeros(5000, np.float32), 500000)
    msg = "sample rate 500000 Hz is too high (the DTMF detector takes 4000 to 384000 Hz)"
    rc = main(CALL + ["--wav", str(p)])
    _, err = capsys.readouterr()
    assert rc == 2 and err.count("\n") == 1 and f"{p}: {msg}" in err
    rc = main(["dtmf", "detect", str(p)])
    _, err2 = capsys.readouterr()
    assert rc == 2 and f"{p}: {msg}" in err2


def _transcript(tree, fixtures, name, blocks: bool) -> list[str]:
    rt = CallRuntime(tree, today=dt.date(2026, 11, 23))
    if blocks:
        stream, call = open_call_audio(rt, str(fixtures / name), EstimatedVoice())
        call.begin()
        with stream:
            stream.block_frames = 1234     # odd blocks: chunks must not depend on them
            call.run_stream(stream)
    else:
        samples, rate = load_caller_audio(fixtures / name)
        call = AudioCall(rt, rate, EstimatedVoice())
        call.begin()
        call.feed(samples)
    call.end_of_audio()
    return [line.format() for line in rt.lines()]


@pytest.mark.parametrize("name", ["salah_tiga_kali.wav", "barge_in_stereo.wav", "tagihan_menunggak_16k.wav"])
def test_block_reading_gives_the_same_call_as_the_whole_file(repo, fixtures_dir, name):
    tree = load_tree(repo / "menus" / "vika.yaml")
    assert _transcript(tree, fixtures_dir, name, True) == _transcript(tree, fixtures_dir, name, False)


def test_compressed_audio_on_a_pipe_still_works(tmp_path, fixtures_dir):
    caller, rate = load_caller_audio(fixtures_dir / "salah_tiga_kali.wav")
    buf = io.BytesIO()
    write_wav(buf, caller, rate, format="FLAC")
    data = buf.getvalue()
    assert len(data) > HEAD_BYTES      # more than the head: decoded from a spooled copy
    rc, out, err, rss = _child(CALL + ["--wav", "-"], lambda w: w.write(data))
    assert rc == 0 and _outcome(out)["outcome"] == "transfer"


def test_stream_errors_are_one_line(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(AudioError, match="empty file"):
        open_audio_stream(str(empty))
    nodata = tmp_path / "nodata.wav"
    write_wav(nodata, np.zeros(0, np.float32), 8000)
    with pytest.raises(AudioError, match="holds no samples"):
        open_audio_stream(str(nodata))
    cut = tmp_path / "cut.wav"
    full = io.BytesIO()
    write_wav(full, np.zeros(8000, np.float32), 8000)
    cut.write_bytes(full.getvalue()[:5000])
    with pytest.raises(AudioError, match="truncated WAV"):
        open_audio_stream(str(cut))
    with pytest.raises(AudioError, match="directory"):
        open_audio_stream(str(tmp_path))


class _HoldingRecognizer:
    """Keeps every sample fed since start(), like the real recognisers; never hears speech."""

    def __init__(self):
        self.held = 0
        self.most = 0

    def start(self, grammar):
        self.held = 0

    def feed(self, pcm):
        self.held += len(pcm)
        self.most = max(self.most, self.held)

    speech_start = None
    endpoint = False

    @property
    def duration(self):
        return self.held / 16000


def test_silence_before_an_utterance_is_not_kept_for_ever():
    rec = _HoldingRecognizer()
    inp = RecognizerInput(rec)
    inp.set_grammar(Grammar((), digits=True, min_digits=1, max_digits=16))
    chunk = np.zeros(1600, np.float32)
    for i in range(36000):          # an hour on hold, 0.1 s at a time
        inp.feed(chunk, i * 0.1)
    assert rec.most <= (MAX_LEAD_S + 0.2) * 16000


# ---- the other audio readers: ivr dtmf detect and ivr asr --------------------------------
def test_dtmf_detect_streams_a_long_pipe_in_flat_memory():
    """Keys, then 50 minutes of silence on a pipe whose header claims 4 GB: the keys are
    found and memory stays flat (before: the whole input was read into memory first)."""
    from ivr.dsp.dtmf_gen import generate

    keys = generate("1234#", 8000)
    pcm = (np.clip(keys, -1, 1) * 32767).astype("<i2").tobytes()

    def feed(w):
        w.write(_header_ffff())
        w.write(pcm)
        zeros = bytes(1 << 20)
        for _ in range(46):   # 46 MiB of 16-bit samples at 8 kHz: about 50 minutes
            w.write(zeros)
    rc, out, err, rss = _child(["dtmf", "detect", "--unmask", "-"], feed)
    assert rc == 0 and out.strip() == "1234#"
    assert rss < 150


def test_dtmf_detect_refuses_dev_zero_at_once(capsys):
    assert main(["dtmf", "detect", "/dev/zero"]) == 2
    assert capsys.readouterr().err.strip() == "ivr: error: /dev/zero: not an audio file (format not recognised)"


def test_asr_refuses_more_than_one_utterance_of_audio():
    from ivr.speech.asr.audio_in import load_pcm

    buf = io.BytesIO()
    write_wav(buf, np.zeros(8000 * 3, np.float32), 8000)
    buf.seek(0)
    assert len(load_pcm(buf)) == 16000 * 3          # resampled to the recogniser's 16 kHz
    buf.seek(0)
    with pytest.raises(AudioError, match="longer than 2 s; ivr asr takes one utterance per file"):
        load_pcm(buf, max_seconds=2)


def test_a_long_call_recording_is_written_in_flat_memory(tmp_path):
    """--out-wav of a caller who holds the line for 50 minutes: the recording is as long as
    the call, and the memory it takes does not grow with it (caller audio on disk, blocks
    written as they are made)."""
    out = tmp_path / "rec.wav"

    def feed(w):
        w.write(_header_ffff())
        zeros = bytes(1 << 20)
        for _ in range(46):   # about 50 minutes of 8 kHz silence
            w.write(zeros)
    args = ["call", "--no-log", "--no-queue", "--no-tts", "--speech", "off", "--today", "2026-11-23",
            "--json", "--then", "silence", "--max-call-seconds", "3000", "--wav", "-", "--out-wav", str(out)]
    rc, stdout, err, rss = _child(args, feed)
    import soundfile as sf

    info = sf.info(str(out))
    assert rc == 0 and info.channels == 2 and info.duration > 60
    assert rss < 200
    assert (out.stat().st_mode & 0o777) == 0o600

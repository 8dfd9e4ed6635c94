"""Regressions found by the acceptance-style fuzz probe of what users feed `ivr` (keys typed
in a terminal, arguments, files): each test is the smallest reproducer of one problem."""
from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _read_until(fd: int, proc: subprocess.Popen, want: bytes | None, deadline_s: float) -> bytes:
    """Read the terminal's output until `want` appears (None: until the process exits) or
    the deadline passes; reading keeps the terminal's buffer from filling."""
    out = b""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if want is not None and want in out:
            break
        if want is None and proc.poll() is not None:
            break
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:          # the other side closed: the process is gone
                data = b""
            if not data and proc.poll() is not None:
                break
            out += data
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminal semantics of Linux")
def test_keypad_call_ignores_ctrl_s_and_still_hangs_up(tmp_path):
    """Ctrl-S (XOFF) typed during a keypad call stopped the terminal's output (cbreak keeps
    IXON), the call blocked in its next write and `q` never ended it."""
    master, slave = pty.openpty()
    env = dict(os.environ, IVR_HOME=str(tmp_path), TERM="xterm")
    proc = subprocess.Popen([sys.executable, "-m", "ivr", "call", "--today", "2026-11-23", "--no-log"],
                            cwd=REPO, env=env, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    try:
        seen = _read_until(master, proc, b"q = tutup telepon", 60)
        assert b"q = tutup telepon" in seen, seen[-500:]    # the keypad is listening
        os.write(master, b"\x13q")                          # Ctrl-S, then hang up
        _read_until(master, proc, None, 30)
        assert proc.poll() == 0, "the call did not end after Ctrl-S q"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


@pytest.mark.parametrize("port", ["99999999999", "65536", "-1", "0"])
def test_sdp_offer_with_a_port_no_socket_takes_is_refused(port):
    """An INVITE whose SDP offered port 99999999999 or -1 was answered 200 OK, then the
    media start failed inside the server ("cannot answer: error: 'H' format requires
    0 <= number <= 65535", "argument out of range") and the caller was left with a dead
    call; the offer is refused instead (the server answers 488)."""
    from ivr.sip import sdp

    offer = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
             f"m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n")
    with pytest.raises(sdp.SdpError, match="port"):
        sdp.parse_offer(offer)
    assert sdp.parse_offer(offer.replace(f"m=audio {port} ", "m=audio 4000 ")).port == 4000


def test_a_yaml_path_that_never_ends_is_refused_by_size(tmp_path):
    """`--tree /dev/zero` (or a queue config, a scenario) was read whole: stat says 0 bytes,
    read_bytes() never ends, and the process died of MemoryError at ~3.7 GB with a traceback."""
    from ivr import yamlsafe

    with pytest.raises(yamlsafe.YamlError, match="larger than") as exc:
        yamlsafe.read_text("/dev/zero", yamlsafe.Limits(max_bytes=64 * 1024))
    assert exc.value.code == "size"


def test_scenario_with_an_impossible_unquoted_date_is_one_line_error(tmp_path, capsys, monkeypatch):
    """`today: 2026-02-30` in a scenario file: YAML reads an unquoted date as a timestamp
    and PyYAML's date() raised ValueError out of `ivr test` as a traceback."""
    from ivr.cli import main

    monkeypatch.setenv("IVR_HOME", str(tmp_path / "home"))
    f = tmp_path / "s.yaml"
    f.write_text(f"tree: {REPO / 'menus' / 'vika.yaml'}\ntoday: 2026-02-30\n"
                 "scenarios: [{name: a, steps: [{keys: '1'}]}]\n")
    assert main(["test", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"ivr: error: {f}:2:8: not a valid date or time: 2026-02-30"]


@pytest.mark.parametrize("argv", [
    ["test", "--generate", str(REPO / "menus" / "vika.yaml"), "-o", "{tmp}/gen", "--today", "9999-12-31"],
    ["call", "--keys", "1 2 3273011708850003# 17081985", "--no-log", "--today", "9999-12-31"],
])
def test_today_at_the_end_of_the_calendar_is_a_usage_error(argv, tmp_path, capsys, monkeypatch):
    """`--today 9999-12-31`: the next due date is in year 10000 and the billing code raised
    ValueError (a traceback out of `ivr test --generate`, "gangguan" in a call)."""
    from ivr.cli import main

    monkeypatch.setenv("IVR_HOME", str(tmp_path / "home"))
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["ivr: error: --today: '9999-12-31' is out of range (years 1900-2999)"]


def test_out_wav_without_an_audio_extension_is_one_line_error(tmp_path, capsys, monkeypatch):
    """`--out-wav rec` (no extension): soundfile raised TypeError ("unable to get format
    from file extension") out of `ivr call` as a traceback."""
    import numpy as np

    from ivr.cli import main
    from ivr.dsp.audio import write_wav

    monkeypatch.setenv("IVR_HOME", str(tmp_path / "home"))
    wav = tmp_path / "in.wav"
    write_wav(wav, np.zeros(8000, dtype=np.float32), 8000)
    rec = tmp_path / "rec"
    assert main(["call", "--wav", str(wav), "--speech", "off", "--no-tts", "--no-log",
                 "--today", "2026-11-23", "--out-wav", str(rec)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"ivr: error: --out-wav {rec}: cannot write")


def test_tree_prompt_with_an_escaped_lone_surrogate_is_a_lint_error(tmp_path, capsys, monkeypatch):
    """A double-quoted "\\ud800" in a prompt is a lone surrogate; `ivr lint` hashed the
    prompt for its TTS cache and raised UnicodeEncodeError as a traceback."""
    from ivr.cli import main

    monkeypatch.setenv("IVR_HOME", str(tmp_path / "home"))
    text = (REPO / "menus" / "vika.yaml").read_text(encoding="utf-8")
    bad = text.replace('"Maaf, pilihan Anda tidak tersedia."', '"\\ud800 pilihan Anda tidak tersedia."', 1)
    assert bad != text
    f = tmp_path / "t.yaml"
    f.write_text(bad, encoding="utf-8")
    assert main(["lint", str(f)]) == 1
    out = capsys.readouterr().out
    assert "lone surrogate" in out


def _quiet_wav(tmp_path):
    import numpy as np

    from ivr.dsp.audio import write_wav

    wav = tmp_path / "quiet.wav"
    write_wav(wav, np.zeros(8000, dtype=np.float32), 16000)
    return wav


@pytest.mark.parametrize("language", ["xx", ""])
def test_asr_language_whisper_does_not_know_is_a_usage_error(language, tmp_path, capsys):
    """`ivr asr --language xx` (or ""): faster-whisper's tokenizer raised ValueError as a
    traceback once the model had loaded."""
    from ivr.cli import main

    assert main(["asr", "--words", "ya,tidak", "--language", language, str(_quiet_wav(tmp_path))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"ivr: error: --language: {language!r} is not a Whisper language code "
                             "(expected one of: af, am, ")
    assert ", id, " in err[0]


def test_asr_words_too_long_for_whisper_prompt_is_a_usage_error(tmp_path, capsys):
    """`ivr asr --words aaaa...` (100,000 letters): the prompt filled Whisper's 448-token
    context and CTranslate2 raised RuntimeError ("no position encodings") as a traceback."""
    from ivr.cli import main

    assert main(["asr", "--words", "a" * 100_000, str(_quiet_wav(tmp_path))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("ivr: error: --words: the words of grammar 'words' make a Whisper prompt of ")
    assert "at most 223 fit" in err[0]


@pytest.mark.parametrize("argv, message", [
    (["--max-digits", "99999999999"], "--max-digits 99999999999: at most 32 digits"),
    (["--length", "33"], "--length 33: at most 32 digits"),
    (["--validator", "nik", "--length", "3"], "--length 3 contradicts --validator nik: its values have at least 16"),
    (["--validator", "phone", "--max-digits", "9"], "--max-digits 9 contradicts --validator phone: its values have "
                                                    "at least 10"),
])
def test_asr_digit_lengths_out_of_reach_are_usage_errors(argv, message, tmp_path, capsys):
    """`ivr asr --digits --max-digits 99999999999`, or `--validator nik --length 3` (no
    3-digit NIK exists): both were accepted and decoded for a minute; now refused at once."""
    from ivr.cli import main

    assert main(["asr", "--digits", str(_quiet_wav(tmp_path)), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"ivr: error: {message}")


def test_queue_agents_range_is_refused_before_it_is_built():
    """`ivr queue erlang --agents 1..100000000`: the range was expanded into a list (3.9 GB)
    before the 50-level limit was checked."""
    import tracemalloc

    from ivr.cli import CliError
    from ivr.queue.commands import parse_agents

    tracemalloc.start()
    try:
        with pytest.raises(CliError, match=r"^--agents 1\.\.2000000: 2000000 staffing levels; at most 50 at once$"):
            parse_agents("1..2000000")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, peak
    assert parse_agents("10..59") == list(range(10, 60))


def test_dtmf_gen_refuses_a_key_string_no_call_needs(tmp_path, capsys):
    """`ivr dtmf gen` with 100,000 keys synthesised 128 million samples at once (3.5 GB)."""
    from ivr.cli import main

    out = tmp_path / "k.wav"
    assert main(["dtmf", "gen", "1" * 100_000, "-o", str(out)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == ["ivr: error: digits: 100000 keys given, at most 1000 in one file"]
    assert not out.exists()
    assert main(["dtmf", "gen", "1-" * 1000, "-o", str(out)]) == 0    # 1000 keys ('-' ignored) are fine


def test_dtmf_tones_are_synthesised_a_block_at_a_time():
    """Each tone sample took ~7 float64 temporaries at once: 2.5 GB for a 2-key file of
    one-minute tones at 384 kHz. The peak is now the output plus one block's temporaries."""
    import tracemalloc

    from ivr.dsp.dtmf_gen import generate

    tracemalloc.start()
    try:
        x = generate("1", rate=96000, on_ms=60000, off_ms=10)     # 5.8 M samples
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(x) > 5_000_000
    assert peak < x.nbytes + 100_000_000, (peak, x.nbytes)       # was 346 MB for 23 MB of output


def test_wav_of_a_codec_whose_last_block_is_short_is_read(tmp_path):
    """A G.721 ADPCM WAV (format tag 0x0040, written by libsndfile itself) was refused as
    "truncated WAV: data size ... is not a whole number of frames": that test is for PCM,
    float and G.711, whose data is whole frames; a codec's last block may be short."""
    import struct

    import numpy as np
    import soundfile as sf

    from ivr.dsp.audio import open_audio_stream, read_audio
    from ivr.dsp.dtmf_gen import generate

    x = generate("3273#", rate=8000)
    wav = tmp_path / "g721.wav"
    sf.write(wav, x, 8000, subtype="G721_32")
    raw = wav.read_bytes()
    fmt, data = raw.index(b"fmt "), raw.index(b"data")
    tag, align = struct.unpack("<H", raw[fmt + 8:fmt + 10])[0], struct.unpack("<H", raw[fmt + 20:fmt + 22])[0]
    size = struct.unpack("<I", raw[data + 4:data + 8])[0]
    assert tag == 0x0040 and size % align       # the case: data not a whole number of blocks
    samples, rate = read_audio(wav, always_2d=False)
    assert rate == 8000 and abs(len(samples) - len(x)) < 64 and np.max(np.abs(samples)) > 0.1
    with open_audio_stream(wav) as stream:
        assert stream.rate == 8000 and sum(map(len, stream)) == len(samples) and not stream.error


def test_ivr_test_of_a_device_says_what_it_is(tmp_path, capsys, monkeypatch):
    """`ivr test /dev/zero` said "no such file or directory" of a path that exists."""
    from ivr.cli import main

    monkeypatch.setenv("IVR_HOME", str(tmp_path / "home"))
    assert main(["test", "/dev/zero"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "ivr: error: /dev/zero: not a regular file or folder; expected a scenario file (*.yaml) or a folder of them"]


def test_junit_testcase_name_with_a_nik_is_masked(tmp_path, capsys, monkeypatch):
    """A scenario named after the number it dials (a 16-digit NIK) put the number in clear
    into the JUnit testcase name; messages and transcripts were already masked."""
    import xml.etree.ElementTree as ET

    from ivr.cli import main
    from ivr.privacy import mask_pii

    monkeypatch.setenv("IVR_HOME", str(tmp_path / "home"))
    nik = "3174054508900002"
    sc = tmp_path / "s.yaml"
    sc.write_text(f"tree: {REPO / 'menus' / 'vika.yaml'}\ntoday: 2026-11-23\n"
                  f"scenarios:\n  - name: status {nik}\n    steps:\n      - keys: '1'\n")
    junit = tmp_path / "junit.xml"
    assert main(["test", str(sc), "--junit", str(junit)]) == 0
    names = [c.get("name") for c in ET.parse(junit).iter("testcase")]
    assert names == [mask_pii(f"status {nik}")] and nik not in junit.read_text()
    assert main(["test", str(sc), "--junit", str(junit), "--unmask"]) == 0
    assert [c.get("name") for c in ET.parse(junit).iter("testcase")] == [f"status {nik}"]


def test_wav_of_a_format_libsndfile_cannot_decode_names_its_tag(tmp_path):
    """A WAV whose format tag libsndfile does not decode said "unreadable audio (... Malformed
    'fmt ' chunk.)"; it now names the tag and the formats that are read."""
    import numpy as np

    from ivr.dsp.audio import AudioError, open_audio_stream, read_audio, write_wav

    wav = tmp_path / "tag.wav"
    write_wav(wav, np.zeros(800, dtype=np.float32), 8000)
    raw = bytearray(wav.read_bytes())
    fmt = raw.index(b"fmt ")
    raw[fmt + 8:fmt + 10] = (0x1234).to_bytes(2, "little")
    wav.write_bytes(bytes(raw))
    want = f"{wav}: unsupported WAV format 0x1234 (readable: PCM, float, A-law, mu-law, "
    with pytest.raises(AudioError) as exc:
        read_audio(wav)
    assert str(exc.value).startswith(want)
    with pytest.raises(AudioError) as exc:
        open_audio_stream(wav)
    assert str(exc.value).startswith(want)

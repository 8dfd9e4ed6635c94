"""Offline TTS (pyttsx3 + espeak-ng) and its content-addressed cache; real synthesis."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import wave

import numpy as np
import pytest

from ivr.cli import main as ivr_main
from ivr.speech import playback
from ivr.speech.tts import SAMPLE_RATE, RenderStats, Tts, TtsError, TtsUnavailable, _Engine, read_wav

PROMPT = "Untuk Kelas 3 Rp35.000, tekan 1."


@pytest.fixture
def tts(tmp_path) -> Tts:
    return Tts(cache_dir=tmp_path / "tts")


def _duration(path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def test_render_writes_telephone_ready_speech(tts):
    path = tts.render(PROMPT)
    with wave.open(str(path), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (SAMPLE_RATE, 1, 2)
    samples, rate = tts.load(PROMPT)
    assert rate == SAMPLE_RATE and samples.dtype == np.float32
    assert np.abs(samples).max() <= 1.0
    rms = float(np.sqrt(np.mean(samples ** 2)))
    assert rms > 0.02, "speech should not be silent"
    # "untuk kelas tiga, tiga puluh lima ribu rupiah, tekan satu": 11 words at 165 wpm is
    # about 4 s; espeak adds pauses at commas and the end.
    assert 2.0 < len(samples) / rate < 8.0
    assert path.parent == tts.cache_dir and path.suffix == ".wav"


def test_first_use_in_a_fresh_process_waits_for_the_whole_utterance(tmp_path):
    """On an engine's first runAndWait pyttsx3 returns while espeak-ng is still speaking
    on its own thread; a long first prompt must still be written completely."""
    code = textwrap.dedent(f"""
        import wave
        from ivr.speech.tts import Tts
        text = ("Selamat datang di BPJS Kesehatan Care Center 165, layanan Voice Interactive "
                "JKN. Layanan ini tersedia 24 jam. Untuk informasi iuran, tekan 1.")
        path = Tts(rate=150, cache_dir={str(tmp_path)!r}).render(text)
        with wave.open(str(path)) as w:
            print(w.getnframes() / w.getframerate())
        """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert 8.0 < float(run.stdout.strip().splitlines()[-1]) < 20.0
    assert "Audio saved" not in run.stdout


def test_no_chatter_on_stdout(tts, capfd):
    tts.render("Terima kasih telah menghubungi kami.")
    out, err = capfd.readouterr()
    assert "Audio saved" not in out + err
    assert out == ""


def test_rate_changes_apply_within_one_process(tmp_path):
    """pyttsx3's runAndWait ends with espeak_Cancel, which can restore the previous rate;
    the engine must still honour every requested rate, in any order."""
    text = "Masukkan enam belas digit nomor induk kependudukan, diakhiri tanda pagar."
    rates = [120, 240, 160, 240, 120, 200, 160]
    durations = {}
    for i, rate in enumerate(rates):
        d = _duration(Tts(rate=rate, cache_dir=tmp_path / str(i)).render(text))
        durations.setdefault(rate, []).append(d)
    for rate, ds in durations.items():
        assert max(ds) - min(ds) < 0.05, f"rate {rate} gave durations {ds}"
    means = [np.mean(durations[r]) for r in sorted(durations)]
    assert all(a > b * 1.1 for a, b in zip(means, means[1:])), dict(zip(sorted(durations), means))


def test_voice_applies_and_unknown_voice_is_an_error(tmp_path):
    text = "satu dua tiga empat lima"
    indonesian = read_wav(Tts(voice="poz/id", cache_dir=tmp_path).render(text))[0]
    malay = read_wav(Tts(voice="poz/ms", cache_dir=tmp_path).render(text))[0]
    assert len(indonesian) != len(malay) or not np.array_equal(indonesian, malay)
    with pytest.raises(TtsError, match="unknown voice 'klingon'"):
        Tts(voice="klingon", cache_dir=tmp_path).render(text)
    with pytest.raises(TtsError, match="did you mean poz/id"):
        Tts(voice="id", cache_dir=tmp_path).render(text)


def test_many_files_in_one_process_each_get_their_own_audio(tts):
    """One runAndWait per file: batching save_to_file calls would write only the last."""
    texts = ["Satu.", "Satu dua tiga.", "Satu dua tiga empat lima enam.",
             "Satu dua tiga empat lima enam tujuh delapan sembilan sepuluh."]
    stats = tts.render_many(texts, progress=False)
    assert stats == RenderStats(hits=0, misses=4, seconds=stats.seconds)
    durations = [_duration(tts.render(t)) for t in texts]
    assert durations == sorted(durations) and durations[0] * 3 < durations[-1]
    assert len({tts.render(t) for t in texts}) == 4


def test_second_render_is_all_cache_hits(tts, monkeypatch):
    texts = ["Tekan 1.", "Tekan 2.", "Rp150.000", "Tekan 1."]   # one duplicate
    first = tts.render_many(texts, progress=False)
    assert (first.hits, first.misses) == (0, 3)
    paths = [tts.render(t) for t in texts]
    mtimes = {p: p.stat().st_mtime_ns for p in paths}

    def no_synthesis(*a, **k):
        raise AssertionError("cache hit expected, synthesis attempted")

    monkeypatch.setattr(_Engine, "synthesise", no_synthesis)
    again = Tts(cache_dir=tts.cache_dir)          # a new renderer finds the same entries
    second = again.render_many(texts, progress=False)
    assert (second.hits, second.misses) == (3, 0)
    assert again.synthesised == 0
    assert {p: p.stat().st_mtime_ns for p in paths} == mtimes


def test_cache_key_is_the_spoken_form_voice_and_rate(tts, tmp_path):
    assert tts.path_for("tekan 1") == tts.path_for("tekan satu")     # same words spoken
    assert tts.path_for("tekan 1") != tts.path_for("tekan 2")
    assert Tts(rate=140, cache_dir=tts.cache_dir).path_for("tekan 1") != tts.path_for("tekan 1")
    assert Tts(voice="poz/ms", cache_dir=tts.cache_dir).path_for("tekan 1") != tts.path_for("tekan 1")
    assert Tts(cache_dir=tmp_path / "other").path_for("tekan 1").name == tts.path_for("tekan 1").name


def test_leftover_temp_file_is_ignored(tts):
    """A crash between writing and renaming leaves a .tmp-* file: never read as an entry."""
    final = tts.path_for(PROMPT)
    final.parent.mkdir(parents=True)
    leftover = final.parent / f".tmp-{final.stem}.wav"
    leftover.write_bytes(b"RIFF\x00\x00garbage" * 10)
    assert not tts.is_cached(PROMPT)
    stats = tts.render_many([PROMPT], progress=False)
    assert (stats.hits, stats.misses) == (0, 1)
    assert read_wav(final)[0].size > SAMPLE_RATE        # a real rendering, not the leftover
    assert leftover.read_bytes().startswith(b"RIFF\x00\x00garbage")


def test_failed_synthesis_leaves_no_entry_and_no_temp_file(tts, monkeypatch):
    def crash(text, voice, rate, path):
        path.write_bytes(b"RIFF half a file")
        raise TtsError("espeak-ng failed: simulated crash")

    monkeypatch.setattr(_Engine, "synthesise", crash)
    with pytest.raises(TtsError, match="simulated crash"):
        tts.render(PROMPT)
    assert list(tts.cache_dir.iterdir()) == []
    monkeypatch.undo()
    assert tts.render(PROMPT).exists()


def test_damaged_entry_is_rendered_again_on_load(tts):
    path = tts.render(PROMPT)
    path.write_bytes(b"RIFF" + b"\x00" * 100)         # damaged outside our control
    samples, rate = tts.load(PROMPT)
    assert rate == SAMPLE_RATE and samples.size > SAMPLE_RATE
    assert tts.synthesised == 2


@pytest.mark.parametrize("rate", [20, 1000, 160.5, True])
def test_bad_rate_is_rejected(tmp_path, rate):
    with pytest.raises(TtsError, match="rate must be"):
        Tts(rate=rate, cache_dir=tmp_path)


def test_empty_text_is_rejected(tts):
    with pytest.raises(TtsError, match="nothing to say"):
        tts.render("   ")


def _pretend_no_pyttsx3(monkeypatch):
    """As if pyttsx3 were not installed (a None entry makes `import` fail)."""
    monkeypatch.setattr(_Engine, "_version", None)
    monkeypatch.setattr(_Engine, "_engine", None)
    for name in ("pyttsx3", "pyttsx3.drivers", "pyttsx3.drivers._espeak"):
        monkeypatch.setitem(sys.modules, name, None)


def test_missing_engine_gives_clear_error(tmp_path, monkeypatch):
    _pretend_no_pyttsx3(monkeypatch)
    with pytest.raises(TtsUnavailable, match="install pyttsx3 .* espeak-ng"):
        Tts(cache_dir=tmp_path).render("halo")


# ------------------------------------------------------------------ CLI

TINY_TREE = textwrap.dedent("""\
    version: 1
    start: main
    global_keys: {agent: null}
    defaults:
      prompts: {invalid: "Pilihan salah.", timeout: "Tidak ada input."}
    nodes:
      main:
        type: menu
        prompts: {greet_long: "Iuran Kelas 3 Rp35.000. Tekan 1 untuk selesai.", greet_short: "Tekan 1."}
        options:
          "1": {goto: bye}
      bye: {type: hangup, prompt: "Terima kasih, {nama}."}
    """)


def test_cli_render_tree_twice(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("IVR_CACHE", str(tmp_path / "cache"))
    tree = tmp_path / "tiny.yaml"
    tree.write_text(TINY_TREE)
    assert ivr_main(["tts", "render", str(tree)]) == 0
    out = capsys.readouterr().out
    assert "rendered 4 prompts: 4 synthesised, 0 cache hits" in out     # {nama} prompt excluded
    assert len(list((tmp_path / "cache" / "tts").glob("*.wav"))) == 4
    assert ivr_main(["tts", "render", str(tree)]) == 0
    assert "rendered 4 prompts: 0 synthesised, 4 cache hits (all cached)" in capsys.readouterr().out
    # a different rate is a different rendering
    assert ivr_main(["tts", "render", str(tree), "--rate", "140"]) == 0
    assert "4 synthesised, 0 cache hits" in capsys.readouterr().out


def test_cli_render_text_and_say(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("IVR_CACHE", str(tmp_path / "cache"))
    lines = tmp_path / "prompts.txt"
    lines.write_text("Tekan 1.\n\nTekan 2.\nTekan 1.\n")
    assert ivr_main(["tts", "render-text", str(lines)]) == 0
    assert "rendered 2 prompts: 2 synthesised" in capsys.readouterr().out
    out_wav = tmp_path / "out" / "say.wav"
    assert ivr_main(["tts", "say", "Rp150.000", "-o", str(out_wav)]) == 0
    samples, rate = read_wav(out_wav)
    assert rate == SAMPLE_RATE and samples.size > SAMPLE_RATE


def test_cli_say_without_sound_device_falls_back_to_text(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("IVR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(playback, "_notice_given", False)
    monkeypatch.setattr(playback, "_output_device", _no_device)
    assert ivr_main(["tts", "say", "Tekan 1"]) == 0
    captured = capsys.readouterr()
    assert "said: Tekan satu" in captured.out
    assert len([ln for ln in captured.err.splitlines() if ln.strip()]) == 1


def test_cli_verbalize(capsys):
    assert ivr_main(["tts", "verbalize", "Rp30.000.000"]) == 0
    assert capsys.readouterr().out.strip() == "tiga puluh juta rupiah"


@pytest.mark.parametrize("argv, message", [
    (["tts", "render", "{tmp}/missing.yaml"], "cannot read tree"),
    (["tts", "render", "{tmp}/bad.yaml"], "bad.yaml:"),
    (["tts", "render-text", "{tmp}/missing.txt"], "cannot read"),
    (["tts", "render-text", "{tmp}/binary.txt"], "binary file"),
    (["tts", "render-text", "{tmp}/blank.txt"], "no prompts"),
    (["tts", "say", "halo", "--rate", "5"], "rate must be"),
    (["tts", "say", "halo", "--voice", "nope"], "unknown voice"),
    (["tts", "say", "  "], "nothing to say"),
])
def test_cli_errors_are_one_line_exit_2(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.setenv("IVR_CACHE", str(tmp_path / "cache"))
    (tmp_path / "bad.yaml").write_text("version: 1\nstart: [oops\n")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02")
    (tmp_path / "blank.txt").write_text("\n  \n")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert ivr_main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ivr: error:") and message in err and "\n" not in err


def test_cli_missing_engine(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("IVR_CACHE", str(tmp_path / "cache"))
    _pretend_no_pyttsx3(monkeypatch)
    assert ivr_main(["tts", "say", "halo", "-o", str(tmp_path / "x.wav")]) == 2
    assert "offline TTS is not available" in capsys.readouterr().err


# ------------------------------------------------------------------ playback helper

def _no_device(device=None):
    raise playback.PlaybackUnavailable("no sound output device")


def test_play_without_device_gives_one_notice(monkeypatch, capsys):
    monkeypatch.setattr(playback, "_notice_given", False)
    monkeypatch.setattr(playback, "_output_device", _no_device)
    assert playback.has_output_device() is False
    assert playback.play(np.zeros(800, np.float32), 8000) is False
    assert playback.play(np.zeros(800, np.float32), 8000) is False
    assert capsys.readouterr().err.count("no sound output device") == 1


def test_play_uses_sounddevice_when_there_is_a_device(monkeypatch):
    calls = []

    class FakeSd:
        @staticmethod
        def query_devices(device=None, kind=None):
            return {"name": "fake", "max_output_channels": 2}

        @staticmethod
        def play(data, rate, device=None, blocking=True):
            calls.append((data.copy(), rate, device, blocking))

    monkeypatch.setattr(playback, "_sounddevice", lambda: FakeSd)
    assert playback.has_output_device() is True
    assert playback.play(np.array([0.5, 2.0, -3.0]), 22050, device="fake") is True
    data, rate, device, blocking = calls[0]
    assert rate == 22050 and device == "fake" and blocking
    assert data.tolist() == [0.5, 1.0, -1.0]                     # clipped to [-1, 1]


def test_play_rejects_bad_input():
    with pytest.raises(ValueError):
        playback.play(np.zeros((2, 2, 2)), 8000)
    with pytest.raises(ValueError):
        playback.play(np.zeros(10), 0)


def test_real_sounddevice_query_never_raises():
    assert playback.has_output_device() in (True, False)
    assert os.environ.get("IVR_CACHE")   # conftest isolates the cache from the user's

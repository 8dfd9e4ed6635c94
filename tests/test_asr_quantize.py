"""The packaged Whisper base is stored as int8 once (ivr.speech.asr.quantize): CTranslate2's
own per-row scheme, so the model loads with half the memory and decodes the same."""
from __future__ import annotations

import struct
import subprocess
import sys

import numpy as np
import pytest

from ivr.speech.asr import models
from ivr.speech.asr.quantize import QuantizeError, quantize_int8, read_model


@pytest.fixture(scope="module")
def int8_dir(tmp_path_factory):
    return models.install_whisper_base_int8(tmp_path_factory.mktemp("models"))


def test_weights_become_int8_with_a_scale_per_row(int8_dir):
    src = {v[0]: v for v in read_model(models.install_whisper_base() / "model.bin")[3]}
    out = {v[0]: v for v in read_model(int8_dir / "model.bin")[3]}
    name = "decoder/layer_0/self_attention/linear_0/weight"
    shape, dtype, data = out[name][1:]
    assert dtype == "int8" and shape == src[name][1]
    scale = np.frombuffer(out[name + "_scale"][3], np.float32)
    w = np.frombuffer(src[name][3], np.float16).astype(np.float32).reshape(shape)
    q = np.frombuffer(data, np.int8).reshape(shape)
    assert np.abs(q.astype(np.float32) / scale[:, None] - w).max() <= (0.5 / scale).max() + 1e-6
    # layer norms are not quantizable: copied as they were
    ln = "decoder/layer_0/attention/layer_norm/gamma"
    assert out[ln][2] == src[ln][2] and out[ln][3] == src[ln][3]
    assert (int8_dir / "model.bin").stat().st_size < 0.6 * (models.install_whisper_base() / "model.bin").stat().st_size


def test_installed_once(int8_dir):
    mtime = (int8_dir / "model.bin").stat().st_mtime_ns
    assert models.install_whisper_base_int8(int8_dir.parent) == int8_dir
    assert (int8_dir / "model.bin").stat().st_mtime_ns == mtime


PEAK = ("import sys, ctranslate2\nm = ctranslate2.models.Whisper(sys.argv[1], device='cpu', compute_type='int8')\n"
        "print([int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')][0] // 1024)\n")


def test_the_int8_model_loads_with_far_less_memory(int8_dir):
    def peak(d):
        return int(subprocess.run([sys.executable, "-c", PEAK, str(d)], capture_output=True, text=True,
                                  check=True).stdout.strip())
    fp16, int8 = peak(models.install_whisper_base()), peak(int8_dir)
    assert int8 < 0.7 * fp16, (int8, fp16)


def test_unknown_formats_are_refused(tmp_path):
    (tmp_path / "model.bin").write_bytes(struct.pack("I", 99))
    with pytest.raises(QuantizeError, match="format version 99"):
        quantize_int8(tmp_path, tmp_path / "out")

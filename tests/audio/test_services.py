"""Audio jobs through their services: real espeak-ng speech, the bundled Whisper model, real
stored assets (checked with ffprobe), exact captions, music beds and the refusals."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pysubs2
import pytest

from audio import selectors, services, tasks
from audio.models import AudioRequest
from audio.providers.base import decode_audio
from audio.providers.espeak import EspeakProvider
from audio.text import script_words
from mediastudio.jobs.models import Job
from mediastudio.lib.exceptions import ApplicationError, Conflict
from tests.factories import CampaignFactory

SHORT = "Meet the new Aurora lamp. Tap once for focus, and hold to fade into the night."
WER_LIMIT = 0.4  # tiny.en on this short espeak script: measured 0.13 (it hears "Aurora" as "Marora")


class RecordingReporter:
    def __init__(self) -> None:
        self.events: list[tuple[int, str]] = []

    def progress(self, percent: int, message: str = "") -> None:
        self.events.append((int(percent), message))


def probe(path: str | Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,sample_rate,channels:format=duration", "-of", "json", str(path)],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout
    return json.loads(out)


def make_video_with_speech(folder: Path, script: str = SHORT) -> Path:
    """A small real MP4 (160x90, 10 fps) whose sound track is an espeak voiceover of `script`."""
    speech = EspeakProvider(config={}).synthesize(script, voice="en-us", out_path=folder / "speech.wav", rate=160)
    out = folder / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=navy:s=160x90:r=10",
         "-i", str(speech.path), "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-b:a", "96k", str(out)],
        check=True, timeout=120,
    )
    return out


def store(workspace, path: Path, kind: str, source: str = "uploaded"):
    from media_assets.services import asset_create_from_file

    return asset_create_from_file(workspace=workspace, path=path, source=source, kind=kind, make_previews=False)


def run_now(django_capture_on_commit_callbacks, create):
    """Create a request and let the (synchronous, in tests) worker run its job after commit."""
    with django_capture_on_commit_callbacks(execute=True):
        request = create()
    request.refresh_from_db()
    request.job.refresh_from_db()
    return request


@pytest.fixture
def voiceover_done(db, workspace, owner, django_capture_on_commit_callbacks):
    return run_now(django_capture_on_commit_callbacks, lambda: services.voiceover_request(
        workspace=workspace, user=owner, script=SHORT, voice="en-us", rate=165))


def test_it_makes_a_voiceover_asset_whose_caption_words_are_the_script(voiceover_done):
    request = voiceover_done
    assert request.job.status == Job.Status.SUCCEEDED, request.job.error
    assert request.job.result["asset"] == request.asset_id
    asset = request.asset
    assert (asset.kind, asset.source, asset.workspace_id) == ("audio", "generated", request.workspace_id)
    info = probe(asset.file.path)
    assert (int(info["streams"][0]["sample_rate"]), info["streams"][0]["channels"]) == (48000, 1)
    audio = decode_audio(asset.file.path)
    assert -2.0 < 20 * np.log10(np.abs(audio).max()) <= -1.0  # normalised, not clipped
    # Captions: exactly the script's words, timed by the engine's own word events.
    assert [w["text"] for w in request.words] == [w.text for w in script_words(SHORT)]
    assert request.alignment["method"] == "engine"
    # The forced alignment ran too, and agrees with the engine within the 150 ms.
    assert request.alignment["forced"]["method"] == "tts_dtw"
    assert request.alignment["forced_vs_engine"]["max"] <= 0.15
    # The transcript: segments, words with probabilities, language, and its word error rate.
    transcript = request.transcript
    assert transcript["language"] == "en" and transcript["segments"]
    words = [w for s in transcript["segments"] for w in s["words"]]
    assert words and all(0.0 <= w["probability"] <= 1.0 for w in words)
    assert request.alignment["wer"] <= WER_LIMIT


def test_it_reports_progress_through_the_voiceover_stages(db, workspace, owner):
    request = services.voiceover_request(workspace=workspace, user=owner, script="Hello there, studio.", voice="en-us")
    reporter = RecordingReporter()
    result = tasks.voiceover_run(request.job, reporter)
    percents = [p for p, _ in reporter.events]
    assert percents == sorted(percents) and percents[0] <= 5 and percents[-1] >= 95
    messages = " ".join(m for _, m in reporter.events)
    assert "Synthesising" in messages and "Transcribing" in messages and "Aligning" in messages
    assert result["words"] == 3


def test_it_transcribes_a_library_video_and_keeps_words_with_probabilities(
    db, workspace, owner, tmp_path, django_capture_on_commit_callbacks
):
    video = store(workspace, make_video_with_speech(tmp_path), "video")
    request = run_now(django_capture_on_commit_callbacks, lambda: services.transcription_request(
        workspace=workspace, asset=video, user=owner))
    assert request.job.status == Job.Status.SUCCEEDED, request.job.error
    assert request.source_asset_id == video.pk and request.asset_id is None
    assert request.language == "en" and request.alignment["method"] == "transcript"
    from audio.alignment import word_error_rate

    heard = [w["text"] for w in request.words]
    assert word_error_rate(reference=SHORT.split(), hypothesis=heard) <= WER_LIMIT
    assert all(w["probability"] is not None for w in request.words)
    assert services.captions_render(request=request, fmt="srt").startswith("1\n00:00:")


def test_a_known_script_makes_transcription_captions_exact(db, workspace, owner, tmp_path, django_capture_on_commit_callbacks):
    video = store(workspace, make_video_with_speech(tmp_path), "video")
    request = run_now(django_capture_on_commit_callbacks, lambda: services.transcription_request(
        workspace=workspace, asset=video, user=owner, script=SHORT))
    assert request.job.status == Job.Status.SUCCEEDED, request.job.error
    assert [w["text"] for w in request.words] == SHORT.split()
    assert request.alignment["method"] == "tts_dtw" and request.alignment["forced"]["confidence"] >= 0.8
    # Truth: the engine's word events of the same speech (AAC adds no more than a few ms of delay).
    truth = EspeakProvider(config={}).synthesize(SHORT, voice="en-us", out_path=tmp_path / "truth.wav", rate=160).words
    errors = np.abs(np.array([w["start"] for w in request.words]) - np.array([w.start for w in truth]))
    assert errors.max() <= 0.15, errors


def test_captions_download_in_three_formats_that_parse_back_to_the_script(voiceover_done, tmp_path):
    for fmt in services.CAPTION_FORMATS:
        text = services.captions_render(request=voiceover_done, fmt=fmt)
        path = tmp_path / services.captions_filename(request=voiceover_done, fmt=fmt)
        path.write_text(text, encoding="utf-8")
        events = pysubs2.load(str(path))
        assert " ".join(e.plaintext.replace("\n", " ") for e in events) == SHORT, fmt
    # ffmpeg reads them too (it is what burns captions into renders).
    for fmt in ("srt", "ass"):
        path = tmp_path / services.captions_filename(request=voiceover_done, fmt=fmt)
        done = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", str(path), "-f", "srt", "pipe:1"],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "Aurora" in done.stdout and done.stdout.count("-->") == len(pysubs2.load(str(path))), fmt


def test_it_refuses_captions_before_the_words_exist(db, workspace, owner):
    request = services.voiceover_request(workspace=workspace, user=owner, script="Not yet spoken.")
    with pytest.raises(Conflict):
        services.captions_render(request=request, fmt="srt")


def test_it_generates_a_music_bed_of_the_requested_length(db, workspace, owner, django_capture_on_commit_callbacks):
    request = run_now(django_capture_on_commit_callbacks, lambda: services.music_request(
        workspace=workspace, user=owner, mood=85, duration=4.0, seed=11, key="A minor"))
    assert request.job.status == Job.Status.SUCCEEDED, request.job.error
    assert request.asset.kind == "audio" and request.details["category"] == "high_energy"
    assert request.details["key"] == "A minor"
    info = probe(request.asset.file.path)
    assert abs(float(info["format"]["duration"]) - 4.0) < 0.01
    audio = decode_audio(request.asset.file.path, channels=2)
    assert 20 * np.log10(np.abs(audio).max()) <= -1.0


def test_uploaded_music_is_offered_with_generated_music(db, workspace, owner, tmp_path):
    from audio.providers.procedural_music import ProceduralMusicProvider

    track = ProceduralMusicProvider(config={}).generate(mood=30, duration=2.0, out_path=tmp_path / "mine.wav", seed=3)
    uploaded = store(workspace, Path(track.path), "audio", source="uploaded")
    listed = list(selectors.music_assets(user=owner, workspace=workspace))
    assert uploaded in listed


def test_the_music_list_leaves_out_the_studios_voiceovers(voiceover_done, owner):
    assert voiceover_done.asset is not None
    assert voiceover_done.asset not in selectors.music_assets(user=owner, workspace=voiceover_done.workspace)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"script": "   "}, "invalid"),
        ({"script": "Hello there.", "voice": "xx-nowhere"}, "invalid"),
        ({"script": "Nous avons pour vous une lampe, et elle est douce avec vous dans le salon.", "voice": "en-us"}, "language_mismatch"),
        ({"script": "Hello there.", "provider": "elevenlabs"}, "provider_unavailable"),
    ],
)
def test_it_refuses_a_voiceover_it_cannot_make_before_queueing(db, workspace, owner, kwargs, code):
    with pytest.raises(ApplicationError) as caught:
        services.voiceover_request(workspace=workspace, user=owner, **kwargs)
    assert caught.value.code == code
    assert not Job.objects.exists() and not AudioRequest.objects.exists()


def test_it_refuses_music_out_of_range_and_images_for_transcription(db, workspace, owner, tmp_path):
    with pytest.raises(ApplicationError):
        services.music_request(workspace=workspace, user=owner, mood=50, duration=0.2)
    with pytest.raises(ApplicationError):
        services.music_request(workspace=workspace, user=owner, mood=50, duration=5, key="H major")
    from PIL import Image

    Image.new("RGB", (32, 32), "red").save(tmp_path / "pic.png")
    image = store(workspace, tmp_path / "pic.png", "image")
    with pytest.raises(ApplicationError):
        services.transcription_request(workspace=workspace, asset=image, user=owner)
    assert not Job.objects.filter(kind__in=["music", "transcription"]).exists()


def test_the_same_idempotency_key_returns_the_same_request(db, workspace, owner):
    campaign = CampaignFactory(workspace=workspace)
    first = services.music_request(workspace=workspace, user=owner, mood=40, duration=3, idempotency_key="k1", campaign=campaign)
    again = services.music_request(workspace=workspace, user=owner, mood=40, duration=3, idempotency_key="k1", campaign=campaign)
    assert first.pk == again.pk and AudioRequest.objects.count() == 1
    assert first.job.campaign_id == campaign.pk


def test_a_failed_forced_alignment_keeps_the_engines_timings_and_says_why(db, workspace, owner, monkeypatch):
    import audio.alignment

    def refuse(**kwargs):
        raise ValueError("the reference rendering does not carry the script's words")

    monkeypatch.setattr(audio.alignment, "force_align_script", refuse)
    request = services.voiceover_request(workspace=workspace, user=owner, script="Hello there, studio.", voice="en-us")
    tasks.voiceover_run(request.job, RecordingReporter())
    request.refresh_from_db()
    assert request.alignment["method"] == "engine" and "reference rendering" in request.alignment["forced_error"]
    assert [w["text"] for w in request.words] == ["Hello", "there,", "studio."]

"""Audio pages: the voiceover and music panels, the transcript viewer with its word spans and
caption downloads, transcription from a Library asset; and, in a real headless Chromium, the
viewer highlighting the spoken word while the voiceover plays."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from audio.models import AudioRequest
from tests.audio.test_services import SHORT, make_video_with_speech, store
from tests.conftest import server_user
from tests.factories import WorkspaceFactory

THIRTY_WORDS = (
    "Meet Aurora, the lamp that listens. Tap once for focus and twice for calm. "
    "Hold to fade into the night. Designed in Lisbon, built to last, ready to ship today."
)


@pytest.mark.django_db
def test_the_panels_offer_the_engines_voices_and_a_mood_slider(logged_in):
    response = logged_in.get(reverse("audio:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<option value="en-us"' in html and '<option value="fr-fr"' in html
    assert 'type="range"' in html and 'name="mood"' in html
    assert 'name="script"' in html and 'name="rate"' in html


@pytest.mark.django_db
def test_a_voiceover_form_shows_field_errors(logged_in):
    response = logged_in.post(reverse("audio:voiceover-create"), {"script": "", "voice": "en-us", "rate": 175, "pitch": 50})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    response = logged_in.post(reverse("audio:voiceover-create"),
                              {"script": "Nous avons pour vous une lampe, et elle est douce avec vous dans le salon.",
                               "voice": "en-us", "rate": 175, "pitch": 50})
    assert response.status_code == 400 and "looks like" in response.content.decode()
    assert not AudioRequest.objects.exists()


@pytest.mark.django_db
def test_a_voiceover_goes_from_progress_to_a_word_by_word_transcript(logged_in, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = logged_in.post(reverse("audio:voiceover-create"), {"script": SHORT, "voice": "en-us", "rate": 175, "pitch": 50})
    request = AudioRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("audio:detail", args=[request.pk])
    waiting = logged_in.get(response["Location"]).content.decode()
    assert f'data-job-watch="{request.job_id}"' in waiting and "data-transcript" not in waiting
    assert logged_in.get(reverse("audio:words", args=[request.pk])).json() == {"status": "queued", "words": []}

    for callback in callbacks:  # the worker runs the job (synchronously in tests)
        callback()
    html = logged_in.get(response["Location"]).content.decode()
    spans = re.findall(r'<span class="word[^"]*" data-start="([\d.]+)" data-end="([\d.]+)"[^>]*>([^<]+)</span>', html)
    assert [text for _, _, text in spans] == SHORT.split()
    starts = [float(s) for s, _, _ in spans]
    assert starts == sorted(starts)
    request.refresh_from_db()
    assert f'src="{reverse("media_assets:asset-file", args=[request.asset_id])}"' in html
    for fmt in ("srt", "vtt", "ass"):
        assert reverse("audio:captions", args=[request.pk, fmt]) in html
    download = logged_in.get(reverse("audio:captions", args=[request.pk, "srt"]))
    assert download.status_code == 200 and b"Aurora" in download.content


@pytest.mark.django_db
def test_a_library_video_is_transcribed_from_its_link(logged_in, workspace, tmp_path, django_capture_on_commit_callbacks):
    video = store(workspace, make_video_with_speech(tmp_path), "video")
    form = logged_in.get(reverse("audio:transcribe") + f"?asset={video.pk}").content.decode()
    assert f'<option value="{video.pk}" selected' in form
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(reverse("audio:transcribe"), {"asset": video.pk, "script": SHORT})
    request = AudioRequest.objects.get()
    assert response.status_code == 302 and request.source_asset_id == video.pk
    html = logged_in.get(response["Location"]).content.decode()
    assert "<video" in html and 'kind="captions"' in html
    assert re.findall(r'data-start="[\d.]+" data-end="[\d.]+"[^>]*>([^<]+)</span>', html) == SHORT.split()


@pytest.mark.django_db
def test_a_music_bed_is_generated_from_the_panel_and_listed_with_uploads(logged_in, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(reverse("audio:music-create"), {"mood": 70, "duration": 3, "seed": 4})
    request = AudioRequest.objects.get()
    assert response.status_code == 302 and request.asset is not None
    detail = logged_in.get(response["Location"]).content.decode()
    assert "<audio" in detail and "70 · luxury reveal" in detail and "luxury_reveal" not in detail  # words, not keys
    home = logged_in.get(reverse("audio:home")).content.decode()
    assert reverse("media_assets:asset-file", args=[request.asset_id]) in home


@pytest.mark.integration
@pytest.mark.browser
@pytest.mark.embedded
def test_the_transcript_highlights_the_spoken_word_while_the_voiceover_plays(stack, tmp_path):
    from tests.pages.conftest import log_in

    workspace = WorkspaceFactory(name="Voice Co")
    server_user("vera", workspace)
    stack.start()
    import os

    from playwright.sync_api import sync_playwright

    from tests.conftest import chromium_path

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        log_in(page, stack.url, "vera")
        page.goto(f"{stack.url}/audio/")
        page.fill("textarea[name=script]", THIRTY_WORDS)
        assert page.inner_text("[data-word-count]") == str(len(THIRTY_WORDS.split()))
        page.click("form[data-voiceover-form] button[type=submit]")
        page.wait_for_selector("[data-transcript] .word", timeout=120_000)  # the page reloads when the job is done
        assert [w.strip() for w in page.locator("[data-transcript] .word").all_inner_texts()] == THIRTY_WORDS.split()
        page.wait_for_function("document.getElementById('player').readyState >= 2", timeout=20_000)
        page.evaluate("document.getElementById('player').play()")
        page.wait_for_selector("[data-transcript] .word.is-current", timeout=10_000)
        page.wait_for_timeout(2500)
        current = page.locator("[data-transcript] .word.is-current")
        assert current.count() == 1
        time_now = page.evaluate("document.getElementById('player').currentTime")
        start = float(current.get_attribute("data-start"))
        assert 0 <= time_now - start < 1.5, (time_now, start)
        page.screenshot(path=str(tmp_path / "transcript.png"))
        # Clicking a word seeks there.
        page.evaluate("document.getElementById('player').pause()")
        word = page.locator("[data-transcript] .word").nth(20)
        word.click()
        page.wait_for_timeout(300)
        assert abs(page.evaluate("document.getElementById('player').currentTime") - float(word.get_attribute("data-start"))) < 0.5
        browser.close()

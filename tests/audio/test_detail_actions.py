"""An audio request's page lets a writer act on its job where they look at it: Cancel while it is
queued or running, Retry once canceled or failed (a viewer sees neither); and a transcription's
words heard wrong can be corrected: "Correct the words" opens the transcribe form for the same
media with the words as the script, and the new captions carry the corrected text exactly."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from audio import services
from audio.models import AudioRequest
from mediastudio.jobs.services import job_cancel
from tests.audio.test_services import SHORT, make_video_with_speech, store
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db


def _action(html: str, when: str) -> re.Match | None:
    return re.search(rf'<form method="post" action="(/jobs/[^"]+/)" data-when="{when}"( hidden)?>', html)


def test_a_queued_voiceover_offers_cancel_and_a_canceled_one_retry(logged_in, workspace, owner):
    request = services.voiceover_request(workspace=workspace, user=owner, script=SHORT, voice="en-us")
    url = reverse("audio:detail", args=[request.pk])
    html = logged_in.get(url).content.decode()
    cancel, retry = _action(html, "queued running"), _action(html, "failed canceled")
    assert cancel and not cancel.group(2) and cancel.group(1) == reverse("jobs:cancel", args=[request.job_id])
    assert retry and retry.group(2) == " hidden"

    response = logged_in.post(cancel.group(1), {"next": url})
    assert response.status_code == 302 and response["Location"] == url  # back to the audio page
    request.job.refresh_from_db()
    assert request.job.status == "canceled"
    html = logged_in.get(url).content.decode()
    assert _action(html, "queued running").group(2) == " hidden" and not _action(html, "failed canceled").group(2)
    response = logged_in.post(_action(html, "failed canceled").group(1), {"next": url})
    request.job.refresh_from_db()
    assert response["Location"] == url and request.job.status == "queued"


def test_a_viewer_gets_no_job_actions(client, workspace, owner, viewer):
    request = services.voiceover_request(workspace=workspace, user=owner, script=SHORT, voice="en-us")
    job_cancel(job=request.job)
    client.force_login(viewer)
    html = client.get(reverse("audio:detail", args=[request.pk])).content.decode()
    assert "data-job-actions" not in html and _action(html, "failed canceled") is None


def test_the_heard_words_can_be_corrected_and_transcribed_again(logged_in, workspace, owner, tmp_path,
                                                               django_capture_on_commit_callbacks):
    video = store(workspace, make_video_with_speech(tmp_path), "video")
    with django_capture_on_commit_callbacks(execute=True):
        first = services.transcription_request(workspace=workspace, asset=video, user=owner)
    first.refresh_from_db()
    heard = " ".join(w["text"] for w in first.words)
    detail = logged_in.get(reverse("audio:detail", args=[first.pk])).content.decode()
    link = re.search(r'href="([^"]+)" data-correct-words', detail).group(1)

    form = logged_in.get(link.replace("&amp;", "&")).content.decode()
    assert f'<option value="{video.pk}" selected' in form
    assert re.search(r'(?s)<textarea name="script"[^>]*>\s*(.*?)</textarea>', form).group(1).strip() == heard

    corrected = SHORT.replace("Aurora", "Aurorra")  # a brand spelling no recogniser would guess
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(reverse("audio:transcribe"), {"asset": video.pk, "script": corrected})
    assert response.status_code == 302
    again = AudioRequest.objects.exclude(pk=first.pk).get()
    assert again.source_asset_id == video.pk and [w["text"] for w in again.words] == corrected.split()


def test_correcting_another_workspaces_transcription_is_a_404(logged_in, tmp_path):
    other = WorkspaceFactory(name="Other")
    video = store(other, make_video_with_speech(tmp_path), "video")
    theirs = services.transcription_request(workspace=other, asset=video)
    assert logged_in.get(reverse("audio:transcribe") + f"?from={theirs.pk}").status_code == 404


@pytest.mark.browser
def test_the_live_word_count_skips_punctuation_and_emoji(logged_in):
    from playwright.sync_api import sync_playwright

    from tests.conftest import chromium_path

    if chromium_path() is None:
        pytest.skip("Chromium is not installed")
    html = logged_in.get(reverse("audio:home")).content.decode()
    html = re.sub(r"<script[^>]*></script>", "", html)  # no websocket; panels.js is added below
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.set_content(html)
        page.add_script_tag(path="static/audio/panels.js")
        page.fill("textarea[name=script]", "Buy now — only 🙂 $49 !!!")
        assert page.inner_text("[data-word-count]") == "4"
        page.fill("textarea[name=script]", "... 🙂🙂 —")
        assert page.inner_text("[data-word-count]") == "0"
        browser.close()


def test_the_page_names_the_provider_as_people_read_it(logged_in, workspace, owner):
    music = services.music_request(workspace=workspace, user=owner, mood=40, duration=3)
    html = logged_in.get(reverse("audio:detail", args=[music.pk])).content.decode()
    assert "<dd>Procedural music bed (embedded)</dd>" in html and "procedural_music" not in html
    AudioRequest.objects.filter(pk=music.pk).update(provider="retired_vendor")  # since removed from the registry
    assert "<dd>retired_vendor</dd>" in logged_in.get(reverse("audio:detail", args=[music.pk])).content.decode()


def _job_line(html: str) -> str:
    """The text of the page's progress line, tags stripped."""
    line = re.search(r'<section class="card job-watch".*?<div class="small">(.*?)</div>', html, re.S).group(1)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", line)).strip()


def test_the_progress_line_has_no_dangling_separator_without_a_message(logged_in, workspace, owner):
    request = services.voiceover_request(workspace=workspace, user=owner, script=SHORT, voice="en-us")
    url = reverse("audio:detail", args=[request.pk])
    assert _job_line(logged_in.get(url).content.decode()) == "queued 0%"
    # With a message, the message follows the percentage (the separator is drawn by studio.css).
    type(request.job).objects.filter(pk=request.job_id).update(progress=40, message="Speaking the script")
    html = logged_in.get(url).content.decode()
    assert _job_line(html) == "queued 40%Speaking the script", _job_line(html)


@pytest.mark.browser
def test_the_progress_separator_shows_only_with_a_message_also_on_live_updates(logged_in, workspace, owner):
    from playwright.sync_api import sync_playwright

    from tests.conftest import chromium_path

    if chromium_path() is None:
        pytest.skip("Chromium is not installed")
    request = services.voiceover_request(workspace=workspace, user=owner, script=SHORT, voice="en-us")
    html = logged_in.get(reverse("audio:detail", args=[request.pk])).content.decode()
    html = re.sub(r'<link rel="stylesheet"[^>]*>|<script[^>]*></script>', "", html)  # no websocket; studio.css added below
    separator = "() => getComputedStyle(document.querySelector('.job-watch [data-field=message]'), '::before').content"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.set_content(html)
        page.add_style_tag(path="static/css/studio.css")
        assert page.evaluate(separator) == "none"
        assert "·" not in page.inner_text(".job-watch .small")
        # What static/js/jobs.js does on a live update: the message's text, then none again.
        page.evaluate("() => { document.querySelector('.job-watch [data-field=message]').textContent = 'Speaking'; }")
        assert "·" in page.evaluate(separator)
        page.evaluate("() => { document.querySelector('.job-watch [data-field=message]').textContent = ''; }")
        assert page.evaluate(separator) == "none"
        browser.close()

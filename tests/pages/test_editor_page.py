"""The editor page in a real headless Chromium: a clip whose previews are still being made gets
its thumbnail in the bin, on the timeline and behind the caption preview as soon as the ingest job
finishes, without a reload; the timeline's buttons keep keyboard focus and bad seconds are refused;
a click on a clip's picture sets what each platform's crop keeps, shown on the timeline and in the
preview with the logo; Korean and emoji typed in the end card show as glyphs, not boxes; the caption
preview draws emoji in colour or as outlines, as the renders will."""

import subprocess

import pytest

from media_assets.editor_services import composition_create
from media_assets.models import MediaAsset
from media_assets.services import asset_create_from_file
from tests.conftest import server_user
from tests.factories import UniverseFactory, WorkspaceFactory
from tests.pages.conftest import log_in, make_clip, upload_with_no_worker

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_a_clip_still_ingesting_gets_its_thumbnail_in_the_bin_when_its_job_ends(stack, page, tmp_path):
    workspace = WorkspaceFactory(name="Editor Co")
    server_user("eda", workspace)
    upload_with_no_worker(stack, page, make_clip(tmp_path / "beach-run.mp4"), "eda")
    page.wait_for_selector(".asset-card:has-text('beach-run')")
    asset = MediaAsset.objects.get(workspace=workspace)
    assert asset.status == MediaAsset.Status.INGESTING and not asset.thumbnail  # no worker yet: the job waits

    composition = composition_create(workspace=workspace, title="Summer", clips=[])
    page.goto(f"{stack.url}/editor/{composition.pk}/")
    item = page.locator(f'#bin-grid .bin-item[data-asset-id="{asset.pk}"]')
    item.locator(".thumb.placeholder").wait_for()
    item.locator("button.add-clip").click()  # on the timeline too, and so behind the caption preview
    clip_on_timeline = page.locator("#timeline li.clip").first
    clip_on_timeline.locator(".thumb.placeholder").wait_for()
    assert page.eval_on_selector("#preview-picture", "el => el.style.backgroundImage") == ""
    page.evaluate("window.__noReload = true")

    stack.start(web=False)  # the worker makes the previews; its job event reaches the page over the websocket

    item.locator("img.thumb").wait_for(timeout=60_000)
    # The picture is there once the browser has fetched it (the element comes first).
    thumb = f'#bin-grid .bin-item[data-asset-id="{asset.pk}"] img.thumb'
    page.wait_for_function(f"(img => img && img.complete && img.naturalWidth > 0)(document.querySelector('{thumb}'))",
                           timeout=10_000)
    assert clip_on_timeline.locator("img.thumb").count() == 1
    strip = f"/library/{asset.pk}/preview/scrub_strip/"
    assert strip in clip_on_timeline.locator(".trim").evaluate("t => t.style.backgroundImage")  # under the trim handles
    assert f"/library/{asset.pk}/preview/thumbnail/" in page.eval_on_selector("#preview-picture", "el => el.style.backgroundImage")
    assert page.evaluate("window.__noReload") is True
    asset.refresh_from_db()
    assert asset.thumbnail


def test_the_timeline_keeps_keyboard_focus_on_a_moved_clip_and_refuses_a_zero_second_transition(stack, page, tmp_path):
    workspace = WorkspaceFactory(name="Keys Co")
    server_user("kim", workspace)
    one, two = (asset_create_from_file(workspace=workspace, path=make_clip(tmp_path / f"{name}.mp4", source=source, seconds=1.37),
                                       source="uploaded", title=name, make_previews=False)
                for name, source in (("one", "testsrc2"), ("two", "smptebars")))  # 1.375 s: not a whole number of handle steps
    composition = composition_create(workspace=workspace, title="Keys", clips=[
        {"asset": one, "transition": "crossfade", "transition_duration": 0.5}, {"asset": two}])
    stack.start(worker=False)
    log_in(page, stack.url, "kim")
    page.goto(f"{stack.url}/editor/{composition.pk}/")
    focused = "document.activeElement.getAttribute('aria-label')"
    titles = "[...document.querySelectorAll('#timeline .clip-title')].map(t => t.textContent)"

    join = "#timeline li.join[aria-label='Transition after clip 1']"
    page.select_option(f"{join} .transition-kind", "wipe")
    page.fill(f"{join} .transition-duration", "0.4")
    page.dispatch_event(f"{join} .transition-duration", "change")
    page.focus('#timeline button[aria-label="Move clip 1 later"]')
    page.keyboard.press("Enter")
    assert page.evaluate(titles) == ["1. two", "2. one"] and page.evaluate(focused) == "Move clip 2 later"
    # The wipe stays between the first and second clips: a transition belongs to its join, not to a clip.
    assert page.locator(f"{join} .transition-kind").input_value() == "wipe"
    assert page.locator(f"{join} .transition-duration").input_value() == "0.4"
    page.click("#save")
    page.wait_for_selector("#save-state:has-text('Saved')")
    first_saved = composition.clips.get(position=0)
    assert (first_saved.asset.title, first_saved.transition, first_saved.transition_duration) == ("two", "wipe", 0.4)
    page.focus('#timeline button[aria-label="Move clip 2 later"]')
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # "Move clip 2 earlier": back where it was, focus still on it
    assert page.evaluate(titles) == ["1. one", "2. two"] and page.evaluate(focused) == "Move clip 1 earlier"

    # The trim handles work from the keyboard too, and the In and Out fields follow them.
    page.focus("#timeline li.clip >> nth=0 >> .trim-in")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.focus("#timeline li.clip >> nth=0 >> .trim-out")
    page.keyboard.press("ArrowLeft")
    first = page.locator("#timeline li.clip").first
    assert (first.locator(".in-point").input_value(), first.locator(".out-point").input_value()) == ("0.3", "1.3")
    assert first.locator("[data-field=length]").inner_text() == "1.0 s"
    page.keyboard.press("End")  # back to the end (1.375 s, past the last whole step): "to the end", no out point
    assert first.locator(".out-point").input_value() == ""
    assert first.locator("[data-field=length]").inner_text() == "1.1 s"
    # An out point typed before the in point is marked on its field at once, with the reason.
    first.locator(".out-point").fill("0.2")
    first.locator(".out-point").dispatch_event("change")
    assert "after the in point" in first.locator(".out-point").evaluate("f => f.validationMessage")
    assert "has-error" in first.get_attribute("class")
    first.locator(".out-point").fill("")
    first.locator(".out-point").dispatch_event("change")
    assert "has-error" not in first.get_attribute("class")
    page.click("#save")
    page.wait_for_selector("#save-state:has-text('Saved')")
    saved = composition.clips.get(position=0)
    assert (saved.in_point, saved.out_point) == (0.3, None)

    page.fill("#timeline .transition-duration", "0")
    page.dispatch_event("#timeline .transition-duration", "change")
    page.click("#save")
    page.wait_for_selector("#errors li")
    assert "0.1" in page.inner_text("#errors")  # a refusal, not a silent 0.5
    assert composition.clips.get(position=0).transition_duration == 0.4


def test_a_click_on_a_clip_sets_what_each_platform_keeps_and_the_preview_shows_it(stack, page, tmp_path, media_root):
    from media_assets.compositions import CompositionClip

    workspace = WorkspaceFactory(name="Frames Co")  # files stored here are the server's (media_root is its MEDIA_ROOT)
    server_user("fay", workspace)
    wide = asset_create_from_file(workspace=workspace, path=make_clip(tmp_path / "wide.mp4", size="640x360"),
                                  source="uploaded", title="wide")
    logo_png = tmp_path / "logo.png"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=magenta:s=80x40", "-frames:v", "1", str(logo_png)],
                   check=True, timeout=60)
    logo = asset_create_from_file(workspace=workspace, path=logo_png, source="uploaded", title="logo")
    universe = UniverseFactory(workspace=workspace, name="Framed", logo=logo)
    composition = composition_create(workspace=workspace, title="Frames", universe=universe, clips=[{"asset": wide}],
                                     presets=["tiktok", "youtube"], watermark=True, watermark_position="bottom_right")
    stack.start(worker=False)
    log_in(page, stack.url, "fay")
    page.goto(f"{stack.url}/editor/{composition.pk}/")
    frame = page.locator("#timeline li.clip .frame").first
    picture = frame.locator(".picture").bounding_box()
    assert picture["width"] / picture["height"] == pytest.approx(16 / 9, rel=0.03)  # the whole picture, not a crop

    # In TikTok's 9:16 cut (the first chosen platform) a click near the right edge keeps the right of the picture.
    page.mouse.click(picture["x"] + picture["width"] * 0.9, picture["y"] + picture["height"] * 0.3)
    frame.press("ArrowLeft")
    focus = [float(v) for v in frame.get_attribute("data-focus").split(",")]
    assert focus == pytest.approx([0.85, 0.3], abs=0.011)  # the click, to a pixel, then 5 % to the left
    assert "85% across" in frame.get_attribute("aria-label")
    window = page.eval_on_selector("#timeline .crop-window", "w => [w.style.left, w.style.width]")
    assert window == ["68%", "32%"]  # 9:16 of 16:9 is 0.32 of the width, its centre at 0.85 clamped to the right edge
    assert page.eval_on_selector("#preview-picture", "p => p.style.backgroundPosition") == "100% 50%"

    # A square cut framed on its own: the left of the picture, and then fitted whole.
    page.select_option("#view-preset", "square")
    frame = page.locator("#timeline li.clip .frame").first
    page.check("#timeline .own-layout")
    picture = frame.locator(".picture").bounding_box()
    page.mouse.click(picture["x"] + picture["width"] * 0.2, picture["y"] + picture["height"] * 0.5)
    assert page.eval_on_selector("#preview-picture", "p => p.style.backgroundPosition") == "0% 50%"
    page.select_option("#timeline li.clip select:not(.transition-kind) >> nth=-1", "contain_blur")
    assert frame.is_disabled() and page.is_visible("#preview-fill")

    # The logo is drawn from its file in the bottom-right corner of the preview.
    logo_box = page.locator("#preview-logo").bounding_box()
    preview = page.locator("#caption-preview").bounding_box()
    page.wait_for_function("(img => img.complete && img.naturalWidth > 0)(document.querySelector('#preview-logo'))",
                           timeout=10_000)
    assert page.eval_on_selector("#preview-logo", "img => img.naturalWidth") == 80
    assert logo_box["x"] > preview["x"] + preview["width"] / 2 and logo_box["y"] > preview["y"] + preview["height"] / 2
    assert logo_box["width"] == pytest.approx(preview["width"] * 0.15, abs=1.5)

    page.click("#save")
    page.wait_for_selector("#save-state:has-text('Saved')")
    clip = CompositionClip.objects.get(composition=composition)
    assert [clip.focus_x, clip.focus_y] == focus  # TikTok (and every platform without its own framing)
    assert list(clip.layouts) == ["square"] and clip.layouts["square"]["fit"] == "contain_blur"
    assert clip.layouts["square"]["focus"] == pytest.approx([0.2, 0.5], abs=0.011)


def _strongly_different_pixels(png: bytes, other: bytes) -> int:
    import io

    import numpy as np
    from PIL import Image

    a, b = (np.asarray(Image.open(io.BytesIO(p)).convert("L")).astype(int) for p in (png, other))
    return int((np.abs(a - b) > 64).sum()) if a.shape == b.shape else a.size


def test_korean_and_emoji_in_the_end_card_show_as_glyphs_not_boxes(stack, page, tmp_path):
    workspace = WorkspaceFactory(name="Glyph Co")
    server_user("gus", workspace)
    saved = "지금 🚀 今日"
    composition = composition_create(workspace=workspace, title="Glyphs", clips=[], end_card_text=saved)
    stack.start(worker=False)
    log_in(page, stack.url, "gus")
    page.goto(f"{stack.url}/editor/{composition.pk}/")

    def drawn(text: str | None = None) -> bytes:
        if text is not None:
            page.fill("#end-card", text)
        page.evaluate("document.fonts.ready")
        page.wait_for_timeout(300)
        return page.locator("#end-card").screenshot()

    # The saved text, put in the field before its fonts had loaded, shows as glyphs once they have.
    # Chromium kept drawing the boxes it drew at first until the text was typed in; so the field
    # must look the same before and after a key typed and taken back.
    loaded = drawn()
    page.click("#end-card")
    page.keyboard.press("End")
    page.keyboard.type("x")
    page.keyboard.press("Backspace")
    page.eval_on_selector("#end-card", "field => field.blur()")  # no caret, no focus ring
    assert page.input_value("#end-card") == saved
    # Boxes instead of glyphs change some 480 pixels of this field strongly; a caret left behind
    # or a shift of the antialiasing changes a few dozen.
    assert _strongly_different_pixels(drawn(), loaded) < 120

    # Characters no font has are drawn as the missing-glyph box; text drawn as glyphs looks different.
    boxes = drawn("\u0378\u0379")  # unassigned: no font has them
    assert drawn("\u0380\u0381") == boxes  # the box is the box, whichever character is missing
    assert drawn("지금") != boxes
    assert drawn("🚀🎉") != boxes
    assert drawn("今日") != boxes


def _drop_files(page, selector: str, paths) -> None:
    """Drop files from "the computer" on ``selector``, as a browser does (a DataTransfer of Files)."""
    import base64
    import mimetypes

    files = [{"name": p.name, "type": mimetypes.guess_type(p.name)[0] or "", "data": base64.b64encode(p.read_bytes()).decode()}
             for p in paths]
    page.evaluate("""([selector, files]) => {
      const transfer = new DataTransfer();
      files.forEach((f) => transfer.items.add(new File([Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0))], f.name, { type: f.type })));
      const target = document.querySelector(selector);
      for (const type of ["dragenter", "dragover", "drop"]) {
        target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
      }
    }""", [selector, files])


def test_files_dropped_on_the_timeline_are_uploaded_and_join_it_where_they_were_dropped(stack, page, tmp_path, media_root):
    from media_assets.compositions import CompositionClip

    workspace = WorkspaceFactory(name="Drop Co")
    server_user("dot", workspace)
    first = asset_create_from_file(workspace=workspace, path=make_clip(tmp_path / "first.mp4", source="smptebars"),
                                   source="uploaded", title="first")
    composition = composition_create(workspace=workspace, title="Dropped", clips=[{"asset": first}])
    beach, city = make_clip(tmp_path / "beach.mp4"), make_clip(tmp_path / "city.mp4", source="rgbtestsrc")
    photo, voice, notes, broken = (tmp_path / n for n in ("photo.png", "voice.wav", "words.srt", "broken.mp4"))
    for args, out in ((["-f", "lavfi", "-i", "testsrc2=s=400x300", "-frames:v", "1"], photo),
                      (["-f", "lavfi", "-i", "sine=f=300:d=1"], voice)):
        subprocess.run(["ffmpeg", "-v", "error", *args, str(out)], check=True, timeout=60)
    notes.write_text("1\n00:00:00,000 --> 00:00:01,000\nHello there\n", encoding="utf-8")
    broken.write_bytes(b"\x00\x01 not a video at all" * 100)
    stack.start()
    log_in(page, stack.url, "dot")
    page.goto(f"{stack.url}/editor/{composition.pk}/")
    titles = "[...document.querySelectorAll('#timeline .clip-title')].map(t => t.textContent)"

    # Two videos and a photo dropped on the first clip go before it, in the order dropped.
    _drop_files(page, "#timeline li.clip", [beach, city, photo])
    page.wait_for_function("document.querySelectorAll('#uploads .upload-item.done').length === 3", timeout=60_000)
    assert page.evaluate(titles) == ["1. beach", "2. city", "3. photo", "4. first"]
    assert page.locator("#uploads .upload-item .state").all_inner_texts()[0].startswith("On the timeline")
    # Once the worker has made their previews, the rows no longer say they are being made.
    page.wait_for_function("[...document.querySelectorAll('#uploads .upload-item .state')].every(s => s.textContent === 'On the timeline')",
                           timeout=60_000)
    assert page.locator("#bin-grid .bin-item").count() == 4
    assert page.eval_on_selector("#uploads .upload-item [role=progressbar]", "b => b.getAttribute('aria-valuenow')") == "100"

    # With the picker: a sound joins the sound lists, a subtitle file the caption sources, and a
    # file that is not what it claims is refused with the reason, leaving the timeline as it was.
    page.set_input_files("#timeline-files", [str(voice), str(notes), str(broken)])
    page.wait_for_function("document.querySelectorAll('#uploads .upload-item.done, #uploads .upload-item.refused').length === 6",
                           timeout=60_000)
    assert "voice (1.0 s)" in page.inner_text("#voiceover") and "voice (1.0 s)" in page.inner_text("#music")
    assert "Subtitles: words" in page.inner_text("#caption-source")
    refused = page.locator("#uploads .upload-item.refused")
    assert refused.count() == 1 and "broken.mp4" in refused.inner_text() and "Refused:" in refused.inner_text()
    assert page.evaluate(titles) == ["1. beach", "2. city", "3. photo", "4. first"]

    # A library item dragged from the bin onto the timeline joins it too (both in view: a drag does not scroll).
    page.set_viewport_size({"width": 1280, "height": 1600})
    page.locator('#bin-grid .bin-item:has-text("city")').drag_to(page.locator("#timeline li.clip").first,
                                                                  target_position={"x": 10, "y": 60})  # its left half: before it
    assert page.evaluate(titles)[0] == "1. city" and len(page.evaluate(titles)) == 5

    page.click("#save")
    page.wait_for_selector("#save-state:has-text('Saved')")
    order = list(CompositionClip.objects.filter(composition=composition).order_by("position").values_list("asset__original_name", flat=True))
    assert order == ["city.mp4", "beach.mp4", "city.mp4", "photo.png", "first.mp4"]
    assert MediaAsset.objects.filter(workspace=workspace).count() == 6  # first, beach, city, photo, voice, words: not broken


def test_a_drop_lands_in_the_gap_it_was_aimed_at_even_when_the_timeline_changes_meanwhile(stack, page, tmp_path, media_root):
    from media_assets.compositions import CompositionClip

    workspace = WorkspaceFactory(name="Gap Co")
    server_user("gil", workspace)
    a, b, c = (asset_create_from_file(workspace=workspace, path=make_clip(tmp_path / f"{n}.mp4", source=src), source="uploaded",
                                      title=n, make_previews=False) for n, src in (("a", "testsrc2"), ("b", "smptebars"), ("c", "rgbtestsrc")))
    composition = composition_create(workspace=workspace, title="Gaps", clips=[{"asset": a}, {"asset": b}, {"asset": c}])
    new = make_clip(tmp_path / "new.mp4", source="testsrc")
    stack.start(worker=False)
    log_in(page, stack.url, "gil")
    page.goto(f"{stack.url}/editor/{composition.pk}/")
    titles = "[...document.querySelectorAll('#timeline .clip-title')].map(t => t.textContent.replace(/^\\d+\\. /, ''))"
    # Every upload takes a second longer, so that the timeline can change while it runs.
    page.evaluate("""() => { const send = XMLHttpRequest.prototype.send;
      XMLHttpRequest.prototype.send = function (body) { setTimeout(() => send.call(this, body), 1000); }; }""")

    _drop_files(page, "#timeline li.clip:nth-child(5)", [new])  # on c (clips and joins alternate): before it
    page.click('#timeline button[aria-label="Remove clip 1"]')  # while the file uploads
    page.wait_for_function("document.querySelectorAll('#uploads .upload-item.done').length === 1", timeout=60_000)
    assert page.evaluate(titles) == ["b", "new", "c"]  # still before c, though c has moved

    _drop_files(page, "#timeline li.join", [new])  # on the transition between b and new: between them
    page.wait_for_function("document.querySelectorAll('#uploads .upload-item.done').length === 2", timeout=60_000)
    assert page.evaluate(titles) == ["b", "new", "new", "c"]

    page.click("#save")
    page.wait_for_selector("#save-state:has-text('Saved')")
    assert list(CompositionClip.objects.filter(composition=composition).order_by("position")
                .values_list("asset__title", flat=True)) == ["b", "new", "new", "c"]


def test_the_caption_preview_shows_a_long_captions_first_page_as_the_render_does(stack, page, tmp_path):
    from audio.models import AudioRequest
    from tests.factories import JobFactory

    workspace = WorkspaceFactory(name="Pages Co")
    server_user("pia", workspace)
    texts = "Meet our insulated bottle keeping coffee wonderfully hot throughout".split()  # one cue, four lines wide
    words = [{"text": t, "start": 0.1 + i * 0.3, "end": 0.35 + i * 0.3, "matched": True} for i, t in enumerate(texts)]
    request = AudioRequest.objects.create(workspace=workspace, job=JobFactory(workspace=workspace), kind="voiceover",
                                          provider="espeak", script=" ".join(texts), words=words)
    composition = composition_create(workspace=workspace, title="Pages", clips=[], caption_request=request)
    stack.start(worker=False)
    log_in(page, stack.url, "pia")
    page.goto(f"{stack.url}/editor/{composition.pk}/")
    page.wait_for_selector("#caption-text span")
    shown = page.eval_on_selector_all("#caption-text span", "spans => spans.map(s => [s.textContent, s.offsetTop])")
    lines = sorted({top for _, top in shown})
    # Two lines at most (the style's max_lines), and they are the cue's first words: its first page.
    assert len(lines) == 2, shown
    assert [text for text, _ in shown] == texts[:len(shown)] and len(shown) < len(texts)


def _saturated_pixels(png: bytes) -> int:
    """Pixels far from grey: a colour emoji has many, white words with dark outlines none."""
    import io

    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return int(((rgb.max(axis=2) - rgb.min(axis=2)) > 120).sum())


@pytest.mark.parametrize("emoji_font,colour", [("auto", True), ("none", False)], ids=["colour", "outlines"])
def test_the_caption_preview_draws_emoji_as_the_render_will(stack, page, tmp_path, emoji_font, colour):
    from audio.models import AudioRequest
    from tests.factories import JobFactory

    workspace = WorkspaceFactory(name="Emoji Co")
    server_user("eve", workspace)
    texts = ["Hot", "🔥🔥🔥", "deal"]
    words = [{"text": t, "start": 0.1 + i * 0.3, "end": 0.35 + i * 0.3, "matched": True} for i, t in enumerate(texts)]
    request = AudioRequest.objects.create(workspace=workspace, job=JobFactory(workspace=workspace), kind="voiceover",
                                          provider="espeak", script=" ".join(texts), words=words)
    composition = composition_create(workspace=workspace, title="Emoji", clips=[], caption_request=request,
                                     caption_mode="phrase")
    stack.env["RENDER_EMOJI_FONT"] = emoji_font
    stack.start(worker=False)
    log_in(page, stack.url, "eve")
    page.goto(f"{stack.url}/editor/{composition.pk}/")
    page.wait_for_selector("#caption-text span")
    page.evaluate("document.fonts.ready")
    page.wait_for_timeout(300)
    assert page.inner_text("#caption-text").split() == texts
    saturated = _saturated_pixels(page.locator("#caption-text").screenshot())
    assert (saturated > 150) if colour else (saturated < 20), saturated

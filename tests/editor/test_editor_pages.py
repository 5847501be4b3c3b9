"""The editor pages: the list with its create form, and the editor page (timeline, pickers, presets,
caption preview, render controls and results), read-only for viewers."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from media_assets import editor_services as services
from media_assets.compositions import Composition, Render
from media_assets.services import asset_create_from_file
from tests.factories import CampaignFactory, UniverseFactory

pytestmark = pytest.mark.django_db


def _editor_data(html: str) -> dict:
    match = re.search(r'<script id="editor-data" type="application/json">(.*?)</script>', html, re.S)
    assert match, "the page embeds its data"
    return json.loads(match.group(1))


def test_the_list_creates_a_composition_and_opens_the_editor(client, owner, workspace):
    campaign = CampaignFactory(workspace=workspace, name="Cold Brew")
    client.force_login(owner)
    page = client.get(reverse("editor:composition-list"))
    assert page.status_code == 200 and "New composition" in page.content.decode()
    response = client.post(reverse("editor:composition-new"), {"title": "Teaser", "campaign": campaign.pk})
    composition = Composition.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("editor:composition-edit", kwargs={"pk": composition.pk})
    assert composition.campaign == campaign and composition.workspace == workspace
    assert "Teaser" in client.get(reverse("editor:composition-list")).content.decode()
    assert client.post(reverse("editor:composition-new"), {"title": ""}).status_code == 400


def test_the_editor_page_has_the_timeline_pickers_presets_and_render_controls(client, owner, workspace, media, media_root):  # noqa: F811
    clip_asset = asset_create_from_file(workspace=workspace, path=media["red.mp4"], source="uploaded", title="Red shot")
    photo = asset_create_from_file(workspace=workspace, path=media["photo.png"], source="uploaded", title="Packshot")
    music = asset_create_from_file(workspace=workspace, path=media["music.wav"], source="uploaded", title="Bed")
    universe = UniverseFactory(workspace=workspace, name="Brew", palette=["#1f2a44", "#e07a5f"], fonts=["Droid Sans Fallback"])
    composition = services.composition_create(workspace=workspace, title="Teaser", universe=universe,
                                              clips=[{"asset": clip_asset}, {"asset": photo, "duration": 2}], music=music)
    Render.objects.create(composition=composition, preset="tiktok")
    client.force_login(owner)
    response = client.get(reverse("editor:composition-edit", kwargs={"pk": composition.pk}))
    html = response.content.decode()
    assert response.status_code == 200
    for marker in ('id="timeline"', 'id="bin-grid"', 'id="caption-preview"', 'id="voiceover"', 'id="music-level"',
                   'id="presets"', 'id="render"', 'id="render-progress"', 'role="progressbar"', 'id="results"',
                   "editor/editor.js", "DroidSansFallbackFull.ttf"):
        assert marker in html, marker
    data = _editor_data(html)
    assert [c["asset"] for c in data["composition"]["clips"]] == [clip_asset.pk, photo.pk]
    assert data["composition"]["clips"][0]["asset_info"]["thumbnail_url"] == f"/library/{clip_asset.pk}/preview/thumbnail/"
    # A video's scrub strip lies under its trim handles; an image has none.
    assert [c["asset_info"]["strip_url"] for c in data["composition"]["clips"]] == [f"/library/{clip_asset.pk}/preview/scrub_strip/", None]
    assert {a["id"]: a["strip_url"] for a in data["clips"]}[clip_asset.pk] == f"/library/{clip_asset.pk}/preview/scrub_strip/"
    assert {a["id"] for a in data["clips"]} == {clip_asset.pk, photo.pk}
    assert [a["id"] for a in data["audio"]] == [music.pk]
    assert {p["key"] for p in data["presets"]} >= {"tiktok", "reels", "shorts", "youtube", "square", "feed"}
    assert data["brand"]["font"] == "Droid Sans Fallback" and data["brand"]["highlight"] == "#e07a5f"
    assert {k for k, _ in data["choices"]["transition"]} == {"cut", "crossfade", "dip_to_black", "wipe", "slide", "zoom"}
    assert data["urls"]["renders"] == f"/api/compositions/{composition.pk}/renders/"
    assert 'data-can-edit="1"' in html


def test_the_editor_offers_caption_sources_and_previews_their_words(client, owner, workspace, library):
    composition = services.composition_create(workspace=workspace, title="Captioned", clips=[{"asset": library["red"]}],
                                              caption_asset=library["srt"])
    client.force_login(owner)
    data = _editor_data(client.get(reverse("editor:composition-edit", kwargs={"pk": composition.pk})).content.decode())
    assert [s["id"] for s in data["subtitles"]] == [library["srt"].pk]
    assert data["caption_sample"] == "Hello bright world"


def test_the_caption_preview_draws_emoji_as_the_renders_will(client, owner, workspace, library, settings):
    """In colour where the studio has a colour emoji font (RENDER_EMOJI_FONT), else as outlines."""
    composition = services.composition_create(workspace=workspace, title="Emoji", clips=[{"asset": library["red"]}])
    client.force_login(owner)
    url = reverse("editor:composition-edit", kwargs={"pk": composition.pk})
    settings.RENDER_EMOJI_FONT = "auto"
    assert services.render_emoji_font() is not None  # make test installs fonts-noto-color-emoji
    assert _editor_data(client.get(url).content.decode())["colour_emoji"] is True
    settings.RENDER_EMOJI_FONT = "none"
    assert services.render_emoji_font() is None
    assert _editor_data(client.get(url).content.decode())["colour_emoji"] is False


def test_a_viewer_gets_a_read_only_editor(client, viewer, workspace, media, media_root):  # noqa: F811
    asset = asset_create_from_file(workspace=workspace, path=media["red.mp4"], source="uploaded", make_previews=False)
    composition = services.composition_create(workspace=workspace, title="Look only", clips=[{"asset": asset}])
    client.force_login(viewer)
    html = client.get(reverse("editor:composition-edit", kwargs={"pk": composition.pk})).content.decode()
    assert 'data-can-edit="0"' in html and "Delete composition" not in html
    assert "New composition" not in client.get(reverse("editor:composition-list")).content.decode()


def test_deleting_a_composition_keeps_its_rendered_files(client, owner, workspace, media, media_root):  # noqa: F811
    asset = asset_create_from_file(workspace=workspace, path=media["red.mp4"], source="uploaded", make_previews=False)
    output = asset_create_from_file(workspace=workspace, path=media["blue.mp4"], source="rendered", make_previews=False)
    composition = services.composition_create(workspace=workspace, title="Gone", clips=[{"asset": asset}])
    Render.objects.create(composition=composition, preset="tiktok", output=output, status="succeeded")
    client.force_login(owner)
    response = client.post(reverse("editor:composition-delete", kwargs={"pk": composition.pk}))
    assert response.status_code == 302
    assert not Composition.objects.exists() and not Render.objects.exists()
    output.refresh_from_db()  # still in the library


def test_subtitles_uploaded_on_the_editor_become_the_caption_track(client, owner, workspace, media, media_root):  # noqa: F811
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.editor.test_compositions import SRT

    asset = asset_create_from_file(workspace=workspace, path=media["red.mp4"], source="uploaded", make_previews=False)
    composition = services.composition_create(workspace=workspace, title="Subs", clips=[{"asset": asset}])
    client.force_login(owner)
    url = reverse("editor:composition-subtitles", kwargs={"pk": composition.pk})
    response = client.post(url, {"subtitles": SimpleUploadedFile("words.srt", SRT.encode(), content_type="application/x-subrip")})
    assert response.status_code == 302
    composition.refresh_from_db()
    assert composition.caption_asset.kind == "subtitle" and composition.caption_asset.original_name == "words.srt"
    assert [" ".join(w.text for w in c.words) for c in services.caption_cues(composition=composition)][0] == "Hello bright world"
    client.post(url, {"subtitles": SimpleUploadedFile("bad.srt", b"\x00\x01 not subtitles")})
    composition.refresh_from_db()
    assert composition.caption_asset.original_name == "words.srt"  # a refused file changes nothing


def test_the_preview_gets_the_logo_file_its_size_and_its_share_of_the_frame(client, owner, workspace, library):
    from media_assets.render.spec import WATERMARK_SCALE

    logo = library["logo"]
    universe = UniverseFactory(workspace=workspace, name="Marked", logo=logo)
    composition = services.composition_create(workspace=workspace, title="Marked", universe=universe,
                                              clips=[{"asset": library["red"]}], watermark=True)
    client.force_login(owner)
    html = client.get(reverse("editor:composition-edit", kwargs={"pk": composition.pk})).content.decode()
    brand = _editor_data(html)["brand"]
    # The file itself: its thumbnail is a JPEG flattened onto white, which would hide the logo's transparency.
    assert brand["logo_url"] == reverse("media_assets:asset-file", kwargs={"pk": logo.pk})
    assert brand["logo_size"] == [64, 64] and brand["logo_scale"] == WATERMARK_SCALE
    served = client.get(brand["logo_url"])
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    # The caption fonts in both weights the render uses, for the preview.
    assert re.search(r'src: url\("[^"]*NanumSquareR\.ttf"\); font-weight: 400', html)
    assert re.search(r'src: url\("[^"]*NanumSquareB\.ttf"\); font-weight: 700', html)


def _font_faces(css: str) -> dict[str, list[tuple[int, int]]]:
    """The unicode ranges of each @font-face family in ``css``."""
    faces: dict[str, list[tuple[int, int]]] = {}
    for family, ranges in re.findall(r'@font-face \{ font-family: "([^"]+)";[^}]*?unicode-range: ([^;]+);', css):
        for part in ranges.split(","):
            lo, _, hi = part.strip().removeprefix("U+").partition("-")
            faces.setdefault(family, []).append((int(lo, 16), int(hi or lo, 16)))
    return faces


def test_the_pages_draw_hangul_cjk_and_emoji_with_the_fonts_the_render_burns_in():
    from django.conf import settings

    from media_assets.render import captions_ass

    css = (settings.BASE_DIR / "static" / "css" / "studio.css").read_text()
    faces = _font_faces(css)
    assert set(faces) == {"MediaStudio Hangul", "MediaStudio CJK", "MediaStudio Emoji"}
    # Every character the pages draw in NanumSquare or Droid Sans Fallback, the render draws in that font too
    # (the pages list Hangul first, as the render picks Hangul before other CJK).
    for family, expected in (("MediaStudio Hangul", captions_ass.HANGUL_FAMILY), ("MediaStudio CJK", captions_ass.CJK_FAMILY)):
        for lo, hi in faces[family]:
            for code in {lo, (lo + hi) // 2, hi}:
                hangul = any(a <= code <= b for a, b in faces["MediaStudio Hangul"])
                want = captions_ass.HANGUL_FAMILY if hangul else expected
                assert captions_ass.script_family(chr(code), "DejaVu Sans") == want, (family, hex(code))
    # The emoji the render draws from Noto Emoji for a Latin caption are in the pages' emoji font's ranges.
    emoji = [c for c in "🚀✨❤⭐☕👍🏽👩‍💻🇰🇷" if captions_ass.script_family(c, "DejaVu Sans") == captions_ass.EMOJI_FAMILY]
    assert "🚀" in emoji and "🏽" in emoji
    for char in emoji:
        assert any(a <= ord(char) <= b for a, b in faces["MediaStudio Emoji"]), char
    # The pages' font list has them all and no system-ui, after which Chromium on Linux draws boxes instead of trying them.
    stack = re.search(r"font-family: ([^;]*);", css.split(":root {", 1)[1]).group(1)
    assert "system-ui" not in stack
    assert all(f'"{family}"' in stack for family in faces)


def test_a_voiceovers_caption_preview_shows_its_first_caption_before_and_after_the_save(client, owner, workspace, library):
    from audio.models import AudioRequest
    from tests.factories import JobFactory

    words = [{"text": t, "start": s, "end": e, "matched": True}
             for t, s, e in [("Meet", 0.1, 0.4), ("the", 0.4, 0.5), ("bottle.", 0.5, 1.0), ("Hot", 1.6, 1.9), ("coffee", 1.9, 2.4)]]
    request = AudioRequest.objects.create(workspace=workspace, job=JobFactory(workspace=workspace), kind="voiceover",
                                          provider="espeak", script="Meet the bottle. Hot coffee", asset=library["voice"], words=words)
    composition = services.composition_create(workspace=workspace, title="VO", clips=[{"asset": library["red"]}])
    client.force_login(owner)
    url = reverse("editor:composition-edit", kwargs={"pk": composition.pk})
    offered = {r["id"]: r["sample"] for r in _editor_data(client.get(url).content.decode())["caption_requests"]}
    assert offered[request.pk] == "Meet the bottle."  # its first caption, not its first eight words
    services.composition_update(composition=composition, caption_request=request)
    assert _editor_data(client.get(url).content.decode())["caption_sample"] == offered[request.pk]

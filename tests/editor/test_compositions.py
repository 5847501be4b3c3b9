"""Compositions: the timeline service (validation, ordering, tenancy) and its conversion into the
render spec (clips, transitions, captions from subtitles or aligned words, sound, brand marks)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from audio.models import AudioRequest
from media_assets import editor_services as services
from media_assets.compositions import Composition
from media_assets.render import spec as rs
from media_assets.services import AssetInUse, asset_create_from_file, asset_delete
from tests.factories import CampaignFactory, JobFactory, UniverseFactory

from tests.editor.conftest import SRT

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

ASS = """[Script Info]
PlayResX: 1080

[V4+ Styles]
Format: Name, Fontname
Style: Default,Arial

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:01.00,0:00:02.50,Default,,0,0,0,,{\\b1}Ready,\\Nset go
"""


def clip(asset, **fields):
    return {"asset": asset, **fields}


def test_it_converts_a_composition_into_the_render_spec(workspace, library):
    universe = UniverseFactory(workspace=workspace, palette=["#1f2a44", "#e07a5f"], fonts=["DejaVu Sans"], logo=library["logo"])
    campaign = CampaignFactory(workspace=workspace, universe=universe)
    composition = services.composition_create(
        workspace=workspace, title="Launch", campaign=campaign, presets=["shorts", "youtube"],
        clips=[
            clip(library["red"], in_point=0.2, out_point=1.2, transition="crossfade", transition_duration=0.4),
            clip(library["photo"], duration=2.0, motion="drift", fit="contain_blur", transition="wipe", transition_direction="right"),
            clip(library["blue"], focus_x=0.8, layouts={"shorts": {"focus": [0.9, 0.5]}}, transition="dip_to_black", transition_duration=0.3),
        ],
        caption_asset=library["srt"], caption_mode="phrase", caption_border="box",
        voiceover=library["voice"], voiceover_gain_db=2.0, music=library["music"], music_level_db=-12.0,
        watermark=True, watermark_position="bottom_left", watermark_opacity=0.5, end_card_text="Shop now",
    )
    assert composition.universe == universe  # taken from the campaign
    spec = services.composition_spec(composition=composition)

    assert [c.kind for c in spec.clips] == ["video", "image", "video"]
    red, photo, blue = spec.clips
    assert (red.in_point, red.out_point) == (0.2, 1.2)
    assert photo.duration == 2.0 and photo.motion == "drift" and photo.fit == "contain_blur"
    assert blue.out_point == pytest.approx(1.5, abs=0.05)  # no out point: the end of the source
    assert blue.focus_for("youtube") == (0.8, 0.5) and blue.focus_for("shorts") == (0.9, 0.5)
    assert [(t.kind, t.duration) for t in spec.transitions] == [("crossfade", 0.4), ("wipe", 0.5)]
    assert spec.transitions[1].direction == "right"
    # The last clip's transition leads into the end card, in the universe's colours and font.
    assert spec.end_card.text == "Shop now" and spec.end_card.transition.kind == "dip_to_black"
    assert spec.end_card.background == "#1f2a44" and spec.end_card.text_colour == "#FFFFFF"
    expected = 1.0 + 2.0 + 1.5 - 0.4 - 0.5 + 2.5 - 0.3
    assert spec.duration == pytest.approx(expected, abs=0.05)
    assert services.composition_duration(composition=composition) == pytest.approx(expected, abs=0.05)

    assert [" ".join(w.text for w in cue.words) for cue in spec.captions.cues] == ["Hello bright world", "Second line"]
    assert spec.captions.cues[0].start == 0.5 and spec.captions.cues[0].end == pytest.approx(1.5, abs=0.01)
    style = spec.captions.style
    assert (style.mode, style.border, style.highlight, style.box_colour) == ("phrase", "box", "#e07a5f", "#1f2a44")
    assert spec.voiceover.gain_db == 2.0 and spec.music.level_db == -12.0 and spec.music.duck
    assert spec.watermark.position == "bottom_left" and spec.watermark.opacity == 0.5
    spec.validate()

    paths = {a.pk: Path(f"/src/{a.pk}") for a in services.composition_assets(composition=composition)}
    assert {library[k].pk for k in ("red", "photo", "blue", "voice", "music", "logo")} == set(paths)
    located = services.composition_spec(composition=composition, paths=paths)
    assert located.clips[0].path == f"/src/{library['red'].pk}" and located.watermark.path == f"/src/{library['logo'].pk}"


def test_it_times_captions_by_a_voiceover_requests_aligned_words(workspace, library):
    words = [{"text": t, "start": s, "end": e, "matched": True}
             for t, s, e in [("Meet", 0.1, 0.4), ("the", 0.4, 0.5), ("bottle.", 0.5, 1.0), ("Hot", 1.6, 1.9), ("coffee", 1.9, 2.4)]]
    request = AudioRequest.objects.create(workspace=workspace, job=JobFactory(workspace=workspace), kind="voiceover",
                                          provider="espeak", script="Meet the bottle. Hot coffee", asset=library["voice"], words=words)
    composition = services.composition_create(workspace=workspace, title="VO", clips=[clip(library["red"])], caption_request=request)
    assert composition.voiceover == library["voice"]  # the captions' own voice comes with them
    cues = services.composition_spec(composition=composition).captions.cues
    assert [[w.text for w in c.words] for c in cues] == [["Meet", "the", "bottle."], ["Hot", "coffee"]]
    assert [(w.start, w.end) for w in cues[1].words] == [(1.6, 1.9), (1.9, 2.4)]


def test_it_parses_srt_vtt_and_ass_and_spreads_cjk_words_by_character():
    assert services.parse_subtitles(SRT) == [(0.5, 1.5, "Hello bright world"), (2.0, 3.0, "Second line")]
    vtt = "WEBVTT\n\n00:01.000 --> 00:02.000\n<v Ann>Hi there\n"
    assert services.parse_subtitles(vtt) == [(1.0, 2.0, "Hi there")]
    assert services.parse_subtitles(ASS) == [(1.0, 2.5, "Ready, set go")]
    words = services._spread(0.0, 1.2, "你好世界")
    assert [w.text for w in words] == ["你", "好", "世", "界"]
    assert words[0].start == 0.0 and words[-1].end == pytest.approx(1.2)
    # Numbers inside Chinese or Japanese stay whole; Korean, written with spaces, keeps its words.
    assert [w.text for w in services._spread(0.0, 1.0, "保温12時間")] == ["保", "温", "12", "時", "間"]
    assert [w.text for w in services._spread(0.0, 1.0, "지금 주문하세요!")] == ["지금", "주문하세요!"]


@pytest.mark.parametrize("bad,field,message", [
    (lambda lib: clip(lib["red"], in_point=1.0, out_point=0.5), "clips.0.out_point", "after the in point"),
    (lambda lib: clip(lib["red"], out_point=9.0), "clips.0.out_point", "lasts only"),
    (lambda lib: clip(lib["voice"]), "clips.0.asset", "video or an image"),
    (lambda lib: clip(lib["red"], transition_duration=9), "clips.0.transition_duration", "between"),
    (lambda lib: clip(lib["red"], layouts={"myspace": {}}), "clips.0.layouts", "Unknown preset"),
])
def test_it_refuses_clips_that_cannot_play(workspace, library, bad, field, message):
    with pytest.raises(ValidationError) as caught:
        services.composition_create(workspace=workspace, title="Bad", clips=[bad(library)])
    assert message in " ".join(caught.value.message_dict[field])
    assert not Composition.objects.exists()


def test_it_refuses_another_workspaces_asset_and_transitions_longer_than_clips(workspace, other_workspace, library, media):
    theirs = asset_create_from_file(workspace=other_workspace, path=media["testsrc.mp4"], source="uploaded", make_previews=False)
    with pytest.raises(ValidationError) as caught:
        services.composition_create(workspace=workspace, title="X", clips=[clip(theirs)], music=library["music"])
    assert "another workspace" in caught.value.message_dict["clips.0.asset"][0]
    composition = services.composition_create(workspace=workspace, title="Y", clips=[clip(library["red"])])
    with pytest.raises(ValidationError) as caught:
        services.composition_update(composition=composition, clips=[
            clip(library["red"], out_point=0.5, transition="crossfade", transition_duration=0.4),
            clip(library["blue"], out_point=0.3, transition="crossfade", transition_duration=0.4),
            clip(library["red"]),
        ])
    assert caught.value.message_dict["clips.1"][0] == (  # on the clip at fault, counted as on the page, from 1
        "Clip 2 lasts 0.30 s, less than its transitions (0.40 s in + 0.40 s out): shorten a transition, "
        "use a cut or keep more of the clip.")
    assert composition.clips.count() == 1  # the refused timeline changed nothing
    with pytest.raises(ValidationError) as caught:
        services.composition_update(composition=composition, presets=["tiktok", "myspace"], voiceover=library["red"])
    assert set(caught.value.message_dict) == {"presets", "voiceover"}


def test_it_replaces_the_timeline_in_order_and_protects_used_assets(workspace, library):
    composition = services.composition_create(workspace=workspace, title="Order", clips=[clip(library["red"]), clip(library["blue"])])
    services.composition_update(composition=composition, clips=[clip(library["blue"]), clip(library["photo"]), clip(library["red"])])
    assert [c.asset_id for c in composition.clips.all()] == [library[k].pk for k in ("blue", "photo", "red")]
    assert [c.position for c in composition.clips.all()] == [0, 1, 2]
    with pytest.raises(AssetInUse):
        asset_delete(asset=library["photo"])
    services.composition_delete(composition=composition)
    asset_delete(asset=library["photo"])  # no longer used


def test_it_reads_the_encoder_settings(settings):
    settings.RENDER_ENCODER, settings.RENDER_CRF, settings.RENDER_PRESET = "x264", 26, "ultrafast"
    assert services.render_encoding() == rs.Encoding(encoder="x264", crf=26, preset="ultrafast", threads=0)
    settings.RENDER_ENCODER = "quantum"
    assert services.render_encoding().encoder == "auto"


def test_a_render_is_named_by_its_platform(workspace, library):
    from media_assets.compositions import Render

    composition = services.composition_create(workspace=workspace, title="Aurora launch", clips=[clip(library["red"])])
    assert str(Render(composition=composition, preset="youtube")) == "Aurora launch · YouTube 16:9"  # as the library's "Used by" lists it
    assert Render(composition=composition, preset="retired").preset_label == "retired"

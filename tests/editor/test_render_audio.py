"""Audio mix: music ducked under the voiceover, clip audio policy."""

from __future__ import annotations

from media_assets.render import render
from media_assets.render.spec import Clip, Composition, Encoding, Music, Voiceover

from .conftest import WIDE, audio_samples, tone_level

MUSIC_HZ, VOICE_HZ = 880.0, 220.0


def _mix(media, tmp_path, *, voice: bool, name: str):
    comp = Composition(
        clips=(Clip(media["testsrc.mp4"], duration=2.0), Clip(media["bars.mp4"], duration=1.0, has_audio=False)),
        voiceover=Voiceover(media["voice.wav"]) if voice else None,
        music=Music(media["music.wav"], level_db=-6, fade_out=0.0),
    )
    return audio_samples(render(comp, WIDE, tmp_path / name, encoding=Encoding(encoder="x264")).path)


def test_it_ducks_music_while_the_voice_speaks(media, tmp_path) -> None:
    ducked = _mix(media, tmp_path, voice=True, name="ducked.mp4")
    plain = _mix(media, tmp_path, voice=False, name="plain.mp4")
    # The voice burst runs 1.0-2.0 s; compare the music tone inside it with after it.
    ducked_ratio = tone_level(ducked, start=1.3, end=1.9, freq=MUSIC_HZ) / tone_level(ducked, start=2.3, end=2.9, freq=MUSIC_HZ)
    plain_ratio = tone_level(plain, start=1.3, end=1.9, freq=MUSIC_HZ) / tone_level(plain, start=2.3, end=2.9, freq=MUSIC_HZ)
    assert 0.8 < plain_ratio < 1.25
    assert ducked_ratio < 0.5  # at least 6 dB quieter under the voice
    assert tone_level(ducked, start=1.3, end=1.9, freq=VOICE_HZ) > 5 * tone_level(ducked, start=2.3, end=2.9, freq=VOICE_HZ)


def test_it_keeps_clip_sound_only_without_a_voiceover(media, tmp_path) -> None:
    clip_only = Composition(clips=(Clip(media["bars.mp4"], duration=2.0),))
    samples = audio_samples(render(clip_only, WIDE, tmp_path / "clip.mp4", encoding=Encoding(encoder="x264")).path)
    assert tone_level(samples, start=0.5, end=1.5, freq=440.0) > 1.0

    with_voice = Composition(clips=(Clip(media["bars.mp4"], duration=2.0),), voiceover=Voiceover(media["voice.wav"]))
    samples = audio_samples(render(with_voice, WIDE, tmp_path / "vo.mp4", encoding=Encoding(encoder="x264")).path)
    assert tone_level(samples, start=1.2, end=1.8, freq=440.0) < 0.05 * tone_level(samples, start=1.2, end=1.8, freq=VOICE_HZ)

import subprocess

import pysubs2
import pytest

from audio.alignment import align_script_to_transcript
from audio.captions import Cue, CueWord, build_cues, cues_from_transcript, to_ass, to_srt, to_vtt
from audio.providers.base import read_wav
from audio.text import script_words


@pytest.fixture(scope="module")
def cues(script, voiceover, transcript):
    audio, rate = read_wav(voiceover.path)
    words = align_script_to_transcript(script_text=script, transcript_words=transcript.words, audio=audio, sample_rate=rate)
    return build_cues(words=words, max_chars_per_line=32, max_lines=2, min_cue_duration=0.8, max_cue_duration=5.0)


def _assert_readable(cues, *, max_chars=32, max_lines=2, min_duration=0.8):
    assert cues
    for cue in cues:
        assert 1 <= len(cue.lines) <= max_lines
        assert all(len(line) <= max_chars for line in cue.lines), cue.lines
        assert cue.end - cue.start >= min_duration - 1e-9
    for previous, cue in zip(cues, cues[1:]):
        assert cue.start >= previous.end - 1e-9  # no overlap


def test_it_builds_readable_cues_with_exactly_the_script_words(cues, script):
    _assert_readable(cues)
    shown = " ".join(" ".join(c.lines) for c in cues).split()
    assert shown == [w.text for w in script_words(script)]
    assert all(c.end - c.start <= 5.0 for c in cues)
    # Sentences end cues: no cue carries a full stop in the middle of its text.
    assert all("." not in " ".join(c.lines)[:-1] for c in cues)


def test_it_holds_short_cues_for_the_readable_minimum():
    words = [CueWord("Go.", 0.0, 0.2), CueWord("Now!", 0.3, 0.5), CueWord("Yes", 3.0, 3.2)]
    cues = build_cues(words=words, min_cue_duration=0.8)
    _assert_readable(cues)
    assert [c.lines for c in cues] == [["Go."], ["Now!"], ["Yes"]]
    assert cues[1].start == pytest.approx(0.8)  # delayed behind the held first cue, never overlapping


def test_it_builds_cues_from_a_transcript_when_no_script_is_known(transcript):
    cues = cues_from_transcript(transcript=transcript, max_chars_per_line=20)
    _assert_readable(cues, max_chars=20)
    assert " ".join(" ".join(c.lines) for c in cues).split() == [w.text for w in transcript.words]


def _events(text, fmt):
    return pysubs2.SSAFile.from_string(text, format_=fmt).events


@pytest.mark.parametrize(("exporter", "fmt"), [(to_srt, "srt"), (to_vtt, "vtt"), (to_ass, "ass")])
def test_it_exports_subtitles_that_parse_back_with_pysubs2(cues, exporter, fmt):
    events = _events(exporter(cues), fmt)
    assert len(events) == len(cues)
    tolerance = 10 if fmt == "ass" else 1  # ASS keeps centiseconds
    for event, cue in zip(events, cues):
        assert abs(event.start - cue.start * 1000) <= tolerance and abs(event.end - cue.end * 1000) <= tolerance
        assert event.plaintext.split("\n") == cue.lines


def test_it_exports_karaoke_ass_with_one_timed_tag_per_word(cues):
    text = to_ass(cues, karaoke=True, play_res=(1080, 1920))
    events = _events(text, "ass")
    assert len(events) == len(cues)
    for event, cue in zip(events, cues):
        assert event.text.count("\\kf") == len(cue.words)
        assert event.plaintext.split("\n") == cue.lines


@pytest.mark.parametrize(("exporter", "suffix"), [(to_srt, "srt"), (to_vtt, "vtt"), (to_ass, "ass")])
def test_it_exports_subtitles_that_ffmpeg_reads_and_converts(cues, exporter, suffix, tmp_path):
    source = tmp_path / f"subs.{suffix}"
    source.write_text(exporter(cues), encoding="utf-8")
    target = tmp_path / "roundtrip.srt"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(source), str(target)],
                   check=True, timeout=60, capture_output=True)
    back = pysubs2.load(str(target))
    assert len(back.events) == len(cues)
    assert [e.plaintext.replace("\n", " ") for e in back.events] == [" ".join(c.lines) for c in cues]


def test_it_burns_ass_captions_into_a_vertical_frame_with_libass(cues, tmp_path):
    ass = tmp_path / "subs.ass"
    ass.write_text(to_ass(cues, play_res=(1080, 1920)), encoding="utf-8")
    at = (cues[0].start + cues[0].end) / 2
    raw = subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-f", "lavfi", "-i", "color=black:s=216x384:d=20",
         "-vf", f"ass={ass}", "-ss", f"{at:.2f}", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"],
        check=True, timeout=60, capture_output=True,
    ).stdout
    assert len(raw) == 216 * 384
    lit = [i for i, v in enumerate(raw) if v > 128]
    assert len(lit) > 200  # text drawn...
    assert min(lit) // 216 > 384 // 2  # ...in the lower half (bottom-centre style)


def test_it_escapes_markup_in_vtt_and_ass():
    cue = Cue(start=0.0, end=1.0, lines=["<b>R&D</b> {x}"], words=[])
    assert "&lt;b&gt;R&amp;D&lt;/b&gt;" in to_vtt([cue])
    assert "{x}" not in to_ass([cue]).split("[Events]")[1]

"""The one-pass ffmpeg command a person would write by hand for the bench's short (issue 7's reference).

The issue measures its target against such a command ("a hand-written one-pass ffmpeg command for
this job reaches 1.36 times that floor"); the bench runs this one beside the studio's render, in the
same run, so the two compare on one machine. It is what the ffmpeg documentation leads to, written
once for this one short: each clip cropped to the frame's shape around its focus point and scaled,
``xfade`` between whole clips, the captions drawn by the ``ass`` filter, the music ducked under the
voice with ``sidechaincompress``, ``loudnorm`` (one pass) for -14 LUFS and -1 dBTP, and the same x264
and AAC settings as the render. It reuses the studio's captions script, so both draw the same
captions.

Where it loses time, found by taking its parts out one at a time: ``xfade`` takes only yuv444p, so
ffmpeg converts every frame of every clip to 444 and back, not just the frames of the transitions
(the render blends the 420 planes of the overlapping frames only); ``loudnorm`` works at 192 kHz.
"""

from __future__ import annotations

from pathlib import Path

from media_assets.render import PRESETS
from media_assets.render.captions_ass import FONTS_DIR, build_script
from media_assets.render.spec import Composition, Encoding

XFADE = {"crossfade": "fade", "wipe": "wipeleft", "slide": "slideleft", "dip_to_black": "fadeblack",
         "zoom": "zoomin"}  # the bench short has no cuts


def handwritten_command(comp: Composition, out: Path, *, ffmpeg: str, encoding: Encoding, workdir: Path) -> list[str]:
    """Videos only, no photo or logo: the issue's composition (``--composition issue``)."""
    preset = PRESETS["tiktok"]
    w, h, fps = preset.width, preset.height, preset.fps
    script = workdir / "captions.ass"
    script.write_text(build_script(preset=preset, captions=comp.captions).text, encoding="utf-8")

    args: list[str] = []
    graph: list[str] = []
    for i, clip in enumerate(comp.clips):
        if clip.kind != "video":
            raise ValueError("the hand-written command is written for the issue's composition: videos only")
        args += ["-ss", f"{clip.in_point:g}", "-t", f"{clip.length:.6f}", "-i", str(clip.path)]
        fx, fy = clip.focus
        graph.append(
            f"[{i}:v]fps={fps},crop=w='min(iw,ih*{w}/{h})':h='min(ih,iw*{h}/{w})':"
            f"x='clip(iw*{fx}-ow/2,0,iw-ow)':y='clip(ih*{fy}-oh/2,0,ih-oh)',scale={w}:{h},"
            f"setsar=1,format=yuv420p,trim=duration={clip.length:.6f},setpts=PTS-STARTPTS[c{i}]"
        )
    current, offset = "c0", 0.0
    for i, transition in enumerate(comp.transitions, start=1):
        offset += comp.clips[i - 1].length - transition.overlap
        graph.append(f"[{current}][c{i}]xfade=transition={XFADE[transition.kind]}:"
                     f"duration={transition.overlap:g}:offset={offset:.6f}[x{i}]")
        current = f"x{i}"
    graph.append(f"[{current}]ass=filename={script}:fontsdir={FONTS_DIR}[vout]")

    voice, music, n = comp.voiceover, comp.music, len(comp.clips)
    args += ["-i", str(voice.path), "-stream_loop", "-1", "-i", str(music.path)]
    delay = round(voice.start * 1000)
    total = comp.duration
    graph += [
        f"[{n}:a]aformat=channel_layouts=stereo,aresample=48000,adelay={delay}|{delay},apad,asplit[vo][key]",
        f"[{n + 1}:a]aformat=channel_layouts=stereo,aresample=48000,volume={music.level_db:g}dB,"
        f"atrim=duration={total:g}[mus]",
        "[mus][key]sidechaincompress=threshold=0.01:ratio=12:attack=20:release=400[ducked]",  # ends with the music
        f"[vo][ducked]amix=inputs=2:duration=longest:normalize=0,loudnorm=I=-14:TP=-1:LRA=11,"
        f"aresample=48000,atrim=duration={total:g}[aout]",
    ]
    return [ffmpeg, "-v", "error", "-nostdin", "-y", *args, "-filter_complex", ";".join(graph),
            "-map", "[vout]", "-map", "[aout]",
            "-c:v", "libx264", "-profile:v", "high", "-preset", encoding.preset, "-crf", str(encoding.crf),
            "-pix_fmt", "yuv420p", "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
            "-c:a", "aac", "-b:a", encoding.audio_bitrate, "-ar", "48000", "-ac", "2",
            "-t", f"{total:.6f}", "-movflags", "+faststart", str(out)]

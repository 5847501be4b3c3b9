"""Benchmark of the composition renderer against the x264 floor (issue 7).

A 9:16 short (1080x1920, 30 fps) from six mixed-size sources (one 3840x2160, one
1280x720 at 60 fps, one still image with a camera move, one fitted on a blurred fill), five
transitions, karaoke captions, an espeak-ng voiceover, ducked music and a logo.
``--composition issue`` renders the issue's own description instead: six videos (one 4K) cropped
to fill, with the same transitions, captions and sound, and no photo or logo.
``--content camera`` gives the sources a camera sensor's grain and a phone's bitrate (52 Mbit/s for
the 4K clip) instead of clean test patterns: more to decode, and more for x264 to encode.
Measured side by side in one run:

- render: the full render (loudness passes included), wall time and ffmpeg peak RSS; each video
  clip comes with what its upload's probe found, as the studio's clips do, so it is not probed again;
  as in the render job, its ffmpeg also writes the frames of the cut's poster and scrub strip;
- floor: x264 re-encoding the render's own output with the same settings (CRF,
  preset, profile, AAC) and the same ffmpeg build - the cost of one encode of that
  picture, nothing else;
- with ``--composition issue``, the same short made by a one-pass command written by hand
  (bench/_handwritten.py), just after each floor: the issue gives its target beside such a command;
- the same render at half the duration, to show peak memory does not grow with length;
- decoding alone, in the same run: the spans of the sources the render uses, and the render's
  output (what the floor decodes). The render decodes the sources where the floor decodes the
  output, so even with every filter free its CPU time would be at least the floor's minus the
  one plus the other; the bench prints that bound beside the ratio;
- the render's own ffmpeg command with its pictures made but not encoded: what decoding, the
  filters and the sound cost together, and so (the render less this) what its x264 encode cost,
  beside the floor's encode (the floor less decoding its input). x264 can spend more on the
  render's fresh pictures (grain that one encode smooths) than on the same pictures after that
  encode, which is what the floor encodes.

Run: ``.venv/bin/python bench/bench_render.py [--seconds 30] [--repeat 1] [--preset P] [--crf N]
[--composition studio|issue] [--content patterns|camera]``.
Sources are generated once into bench/out/ (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _handwritten import handwritten_command  # noqa: E402
from media_assets import inspector  # noqa: E402
from media_assets.probe import render_facts  # noqa: E402
from media_assets.render import PRESETS, render  # noqa: E402
from media_assets.render.runner import default_ffmpeg, parse_ebur128, prepare, render_command  # noqa: E402
from media_assets.render.spec import (  # noqa: E402
    Captions,
    CaptionStyle,
    Clip,
    Composition,
    Cue,
    Encoding,
    Music,
    SourceInfo,
    Transition,
    Voiceover,
    Watermark,
    Word,
)

OUT = ROOT / "bench" / "out"
SRC = OUT / "src"
# The studio's x264 settings: RENDER_CRF and RENDER_PRESET as the studio reads them, else its defaults
# (the render's own); --crf/--preset change them for one run.
DEFAULT_CRF = int(os.environ.get("RENDER_CRF", Encoding.crf))
DEFAULT_PRESET = os.environ.get("RENDER_PRESET", Encoding.preset)
SCRIPT = (
    "Meet the bottle that keeps your coffee hot for twelve hours and your water cold for a whole day. "
    "Built from recycled steel, sealed with a leak proof lid, and light enough for every trail. "
    "Take it to the office, the gym, the mountain. Order yours today and get free shipping this week."
)
SOURCES = [
    # name, lavfi video source, size, rate
    ("uhd.mp4", "testsrc2", "3840x2160", 30),
    ("hd.mp4", "smptehdbars", "1920x1080", 30),
    ("hd60.mp4", "testsrc2", "1280x720", 60),
    ("vertical.mp4", "testsrc2", "1080x1920", 30),
    ("portrait.mp4", "rgbtestsrc", "720x1280", 30),
    ("square.mp4", "testsrc2", "1080x1080", 30),  # only in the composition (--composition issue)
]


MIN_SECONDS = 8.0


def sh(cmd: list[str], timeout: float = 900) -> None:
    subprocess.run(cmd, check=True, timeout=timeout, capture_output=True)


# --content camera: the same pictures with a camera sensor's grain (new every frame), recorded at the
# bitrate a phone's encoder holds (about 48 Mbit/s for 4K at 30 fps, in proportion to pixels per
# second below that); "patterns" are the clean test patterns alone, at CRF 23.
GRAIN = "noise=alls=8:allf=t"


def phone_bitrate(size: str, rate: int) -> list[str]:
    width, height = (int(n) for n in size.split("x"))
    kbits = max(4000, round(48000 * width * height * rate / (3840 * 2160 * 30)))
    return ["-b:v", f"{kbits}k", "-maxrate", f"{kbits}k", "-bufsize", f"{2 * kbits}k"]


def make_sources(content: str = "patterns") -> dict[str, Path]:
    folder = SRC if content == "patterns" else OUT / f"src-{content}"
    for made in {SRC, folder}:
        made.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, source, size, rate in SOURCES:
        path = folder / name
        if not path.exists():
            picture, rate_control = f"{source}=s={size}:r={rate}:d=7", ["-crf", "23"]
            if content == "camera":
                picture, rate_control = f"{picture},{GRAIN}", phone_bitrate(size, rate)
            sh(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", picture,
                "-c:v", "libx264", "-preset", "veryfast", *rate_control, "-pix_fmt", "yuv420p", str(path)])
        paths[name] = path
    extras = {
        "photo.png": ["-f", "lavfi", "-i", "mandelbrot=s=2400x1600", "-frames:v", "1"],
        "logo.png": ["-f", "lavfi", "-i", "color=c=orange:s=192x192,format=rgba,pad=256:256:32:32:color=black@0",
                     "-frames:v", "1"],
        "music.wav": ["-f", "lavfi", "-i", "aevalsrc='0.2*sin(2*PI*220*t)*(0.6+0.4*sin(2*PI*2*t))"
                      "+0.15*sin(2*PI*277*t)+0.12*sin(2*PI*330*t)':s=48000:d=12"],
    }
    for name, args in extras.items():
        path = SRC / name
        if not path.exists():
            sh(["ffmpeg", "-v", "error", "-y", *args, str(path)])
        paths[name] = path
    voice = SRC / "voice.wav"
    if not voice.exists():
        sh(["espeak-ng", "-s", "150", "-w", str(voice), SCRIPT])
    paths["voice.wav"] = voice
    return paths


def media_duration(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True, timeout=30).stdout
    return float(out)


def loudness(path: Path) -> str:
    """Integrated loudness and true peak of a made video's sound, as the render's tests measure them."""
    log = subprocess.run([default_ffmpeg(), "-nostats", "-i", str(path), "-map", "0:a", "-af", "ebur128=peak=true",
                          "-f", "null", "-"], capture_output=True, text=True, check=True, timeout=120).stderr
    measured = parse_ebur128(log)
    return f"{measured.integrated:.1f} LUFS, true peak {measured.true_peak:.1f} dBTP"


def word_cues(start: float, end: float, words_per_cue: int = 4) -> tuple[Cue, ...]:
    """Evenly timed words (espeak-ng gives no timestamps; the bench only needs realistic load)."""
    words = SCRIPT.split()
    weights = [len(w) + 2 for w in words]
    scale = (end - start) / sum(weights)
    timed, t = [], start
    for word, weight in zip(words, weights):
        timed.append(Word(word, t, t + weight * scale * 0.9))
        t += weight * scale
    return tuple(Cue(tuple(timed[i:i + words_per_cue])) for i in range(0, len(timed), words_per_cue))


def stored_facts(path: Path) -> SourceInfo:
    """What the studio keeps of a video when it is uploaded (its inspector's probe), and hands to the
    render with the clip: made before the timed part, as an upload makes it before any render."""
    info, _ = inspector.inspect_media(path)
    return SourceInfo(**render_facts(info))


def composition(paths: dict[str, Path], seconds: float, kind: str = "studio") -> Composition:
    """The benchmark's short. "studio" (the default): five videos and a product photo with a camera
    move, one video fitted on a blurred fill, and the brand's logo: what a studio cut has. "issue":
    exactly what the issue describes, six videos cropped to fill, no photo and no logo."""
    overlap = 0.5
    each = (seconds + 5 * overlap) / 6

    def video(name: str, **kw) -> Clip:
        return Clip(paths[name], duration=each, source=stored_facts(paths[name]), **kw)

    first = video("uhd.mp4", focus=(0.3, 0.5))
    if kind == "issue":
        rest = ("hd.mp4", "hd60.mp4", "square.mp4", "vertical.mp4", "portrait.mp4")
        clips = (first, *(video(name) for name in rest))
        watermark = None
    else:
        clips = (
            first,
            video("hd.mp4", fit="contain_blur"),
            video("hd60.mp4"),
            Clip(paths["photo.png"], kind="image", duration=each, motion="push_in"),
            video("vertical.mp4"),
            video("portrait.mp4"),
        )
        watermark = Watermark(paths["logo.png"], position="top_right", scale=0.12)
    kinds = ("crossfade", "wipe", "slide", "dip_to_black", "zoom")
    voice_len = min(media_duration(paths["voice.wav"]), seconds - 0.5)
    return Composition(
        clips=clips,
        transitions=tuple(Transition(k, overlap) for k in kinds),
        captions=Captions(cues=word_cues(0.3, 0.3 + voice_len), style=CaptionStyle(highlight="#FFB000")),
        voiceover=Voiceover(paths["voice.wav"], start=0.3),
        music=Music(paths["music.wav"], level_db=-10),
        watermark=watermark,
    )


def decode_sources_command(comp: Composition) -> list[str]:
    """Decode, and do nothing else with, what the render reads of each clip's source: the same
    inputs with the same seeking (each still image once)."""
    cmd = [default_ffmpeg(), "-v", "error", "-nostdin"]
    for clip in comp.clips:
        if clip.kind == "video":
            cmd += ["-ss", str(clip.in_point), "-t", str(clip.length + 0.1)]
        cmd += ["-i", str(clip.path)]
    for i in range(len(comp.clips)):
        cmd += ["-map", f"{i}:v"]
    return cmd + ["-c:v", "wrapped_avframe", "-f", "null", "-"]


def without_video_encode(cmd: list[str]) -> list[str]:
    """The render's ffmpeg command with its pictures made (sources decoded, every filter run) but not
    encoded; the sound is still mixed and encoded. Its output goes nowhere."""
    codec, after = cmd.index("-c:v"), cmd.index("-pix_fmt")
    return cmd[:codec] + ["-c:v", "wrapped_avframe"] + cmd[after:cmd.index("-movflags")] + ["-f", "null", "-"]


def child(task: dict) -> dict:
    """Runs in a fresh process so RUSAGE_CHILDREN is ffmpeg's own peak RSS for this run."""
    encoding = Encoding(encoder="x264", crf=task.get("crf", DEFAULT_CRF), preset=task.get("preset", DEFAULT_PRESET))
    if "paths" in task:  # built before the clock starts: it probes the sources, as their uploads did
        paths = {k: Path(v) for k, v in task["paths"].items()}
        comp = composition(paths, task["seconds"], task.get("composition", "studio"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    if task["kind"] == "decode_sources":
        sh(decode_sources_command(comp))
    elif task["kind"] == "no_encode":
        with tempfile.TemporaryDirectory() as workdir:
            ffmpeg = default_ffmpeg()
            cmd = render_command(comp, PRESETS["tiktok"], Path(workdir) / "unused.mp4", encoding=encoding,
                                 prepared=prepare(comp, ffmpeg=ffmpeg), workdir=workdir, ffmpeg=ffmpeg)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)  # the loudness passes are not counted
            started = time.perf_counter()
            sh(without_video_encode(cmd))
    elif task["kind"] == "handwritten":
        with tempfile.TemporaryDirectory() as workdir:
            cmd = handwritten_command(comp, Path(task["out"]), ffmpeg=default_ffmpeg(), encoding=encoding,
                                      workdir=Path(workdir))
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            sh(cmd)
    elif task["kind"] == "decode_output":
        sh([default_ffmpeg(), "-v", "error", "-nostdin", "-i", task["src"], "-map", "0:v", "-c:v", "wrapped_avframe",
            "-f", "null", "-"])
    elif task["kind"] in ("render", "prepare"):
        if task["kind"] == "prepare":
            prepare(comp)  # the part of a render before ffmpeg starts: the loudness passes
        else:
            with tempfile.TemporaryDirectory() as previews:  # as the render job: its poster and strip too
                render(comp, PRESETS["tiktok"], task["out"], encoding=encoding, stills_dir=previews)
    else:
        sh([default_ffmpeg(), "-v", "error", "-nostdin", "-y", "-i", task["src"], "-c:v", "libx264", "-profile:v", "high",
            "-preset", encoding.preset, "-crf", str(encoding.crf), "-pix_fmt", "yuv420p",
            "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
            "-c:a", "aac", "-b:a", encoding.audio_bitrate, "-ar", "48000", "-ac", "2",
            "-movflags", "+faststart", task["out"]])
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
    return {"wall": wall, "cpu": cpu, "maxrss_mb": usage.ru_maxrss / 1024}


def measure(task: dict) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(task)], capture_output=True, text=True,
                          check=False, timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(f"bench child failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0,
                        help=f"length of the short (default 30, at least {MIN_SECONDS:g})")
    parser.add_argument("--repeat", type=int, default=1, help="pairs of render/floor runs; best of each is kept, "
                        "and with two or more the median of the pairs' ratios is shown too")
    parser.add_argument("--preset", default=DEFAULT_PRESET, help="x264 preset of the render and its floor "
                        "(default: RENDER_PRESET, else the studio's default)")
    parser.add_argument("--crf", type=int, default=DEFAULT_CRF, help="x264 CRF (default: RENDER_CRF, else 20)")
    parser.add_argument("--composition", choices=("studio", "issue"), default="studio",
                        help="studio: five videos, a photo with a camera move, a blurred fill and a logo (default); "
                        "issue: six videos cropped to fill, as the issue describes the benchmark")
    parser.add_argument("--content", choices=("patterns", "camera"), default="patterns",
                        help="patterns: clean test patterns (default); camera: the same with a sensor's grain, "
                        "recorded at a phone's quality (more to decode and to encode, as real footage has)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seconds < MIN_SECONDS:  # the half-length run's clips must outlast their two 0.5 s transitions
        parser.error(f"--seconds must be at least {MIN_SECONDS:g}")
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    for tool in ("ffmpeg", "ffprobe", "espeak-ng"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is required")
    paths = {k: str(v) for k, v in make_sources(args.content).items()}
    built = {"paths": paths, "composition": args.composition}
    full, half = args.seconds, args.seconds / 2
    render_out, floor_out = OUT / "render.mp4", OUT / "floor.mp4"
    x264 = {"preset": args.preset, "crf": args.crf}
    # The short is also rendered by a command written by hand (bench/_handwritten.py), just after
    # each floor: the issue measures its target against such a command.
    by_hand = args.composition == "issue"
    hand_out = OUT / "handwritten.mp4"
    renders, floors, hands = [], [], []
    for _ in range(args.repeat):
        renders.append(measure({"kind": "render", **built, "seconds": full, "out": str(render_out), **x264}))
        floors.append(measure({"kind": "floor", "src": str(render_out), "out": str(floor_out), **x264}))
        if by_hand:
            hands.append(measure({"kind": "handwritten", **built, "seconds": full, "out": str(hand_out), **x264}))
    short = measure({"kind": "render", **built, "seconds": half, "out": str(OUT / "render-half.mp4"), **x264})
    prep = min((measure({"kind": "prepare", **built, "seconds": full}) for _ in range(3)), key=lambda r: r["wall"])
    dec_src = min((measure({"kind": "decode_sources", **built, "seconds": full}) for _ in range(3)),
                  key=lambda r: r["cpu"])
    dec_out = min((measure({"kind": "decode_output", "src": str(render_out)}) for _ in range(3)), key=lambda r: r["cpu"])
    no_enc = min((measure({"kind": "no_encode", **built, "seconds": full, **x264}) for _ in range(3)),
                 key=lambda r: r["cpu"])
    best_render = min(renders, key=lambda r: r["wall"])
    best_floor = min(floors, key=lambda r: r["wall"])
    ratio = best_render["wall"] / best_floor["wall"]
    print(f"composition: {args.composition}, content: {args.content}")
    print(f"output: {render_out} ({media_duration(render_out):.2f} s, 1080x1920 @ 30 fps, "
          f"CRF {args.crf} {args.preset}, {render_out.stat().st_size / 1e6:.1f} MB)")
    def line(name: str, seconds: float, r: dict, note: str = "") -> None:
        print(f"{name:6s} {seconds:>4.0f} s  wall {r['wall']:7.2f} s  cpu {r['cpu']:7.2f} s  "
              f"ffmpeg peak RSS {r['maxrss_mb']:7.1f} MB{note}")

    line("render", full, best_render)
    line("floor", full, best_floor, "  (x264 re-encode of the render, same settings)")
    line("render", half, short)
    print(f"  of the render: loudness passes before ffmpeg starts {prep['wall']:.2f} s wall, {prep['cpu']:.2f} s cpu"
          " (the sources are not probed again: their upload did)")
    cpu_ratio = best_render["cpu"] / best_floor["cpu"]
    print(f"ratio render/floor = {ratio:.3f} wall, {cpu_ratio:.3f} cpu  (target <= 1.25; "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")
    if len(renders) > 1:
        # Each render and the floor run just after it share the machine's speed of that moment.
        pairs = sorted(r["wall"] / f["wall"] for r, f in zip(renders, floors))
        print(f"  per pair (render, then its floor): median {statistics.median(pairs):.3f}, "
              f"range {pairs[0]:.3f}-{pairs[-1]:.3f} over {len(pairs)} pairs")
    if hands:
        # Each hand-written run against the floor run just before it, as the render's pairs.
        hand_pairs = sorted(hw["wall"] / f["wall"] for hw, f in zip(hands, floors))
        best_hand = min(hands, key=lambda r: r["wall"])
        print(f"hand-written one-pass command ({media_duration(hand_out):.2f} s): wall {best_hand['wall']:.2f} s, "
              f"cpu {best_hand['cpu']:.2f} s, ffmpeg peak RSS {best_hand['maxrss_mb']:.1f} MB -> "
              f"{best_hand['wall'] / best_floor['wall']:.3f} x the floor; per pair: median "
              f"{statistics.median(hand_pairs):.3f}, range {hand_pairs[0]:.3f}-{hand_pairs[-1]:.3f} "
              f"(the render: {best_render['wall'] / best_hand['wall']:.3f} x its time)")
        print(f"  sound (target -14 LUFS, true peak <= -1 dBTP): the render {loudness(render_out)}; "
              f"by hand {loudness(hand_out)}")
    print(f"peak RSS {half:.0f} s -> {full:.0f} s: {short['maxrss_mb']:.1f} -> {best_render['maxrss_mb']:.1f} MB")
    bound = best_floor["cpu"] - dec_out["cpu"] + dec_src["cpu"]
    print(f"decoding alone: the sources' used spans {dec_src['cpu']:.2f} s cpu, the render's output {dec_out['cpu']:.2f} s cpu"
          f" -> with every filter free the render would still use >= {bound:.2f} s cpu, "
          f"{bound / best_floor['cpu']:.3f} x the floor's (the render uses {cpu_ratio:.3f} x)")
    # The two encodes compared: each total less what comes before its encoder.
    render_encode = best_render["cpu"] - prep["cpu"] - no_enc["cpu"]
    floor_encode = best_floor["cpu"] - dec_out["cpu"]
    print(f"without its video encode the render's ffmpeg uses {no_enc['cpu']:.2f} s cpu "
          f"({no_enc['cpu'] / best_floor['cpu']:.3f} x the floor's: sources decoded, every filter, the sound)")
    print(f"  -> x264 took about {render_encode:.2f} s cpu on the render's pictures, {floor_encode:.2f} s on the same "
          f"pictures once encoded (the floor's input): {render_encode / floor_encode:.3f} x")


if __name__ == "__main__":
    main()

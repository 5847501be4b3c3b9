"""Tiny real media for the render engine tests, made once per session with ffmpeg."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from media_assets.render.spec import Preset, SafeArea
from media_assets.services import asset_create_from_file

TALL = Preset("tall", 320, 568, 30, SafeArea(top=30, bottom=120, left=16, right=40))
WIDE = Preset("wide", 320, 180, 30, SafeArea(top=10, bottom=20, left=16, right=16))


def ffmpeg(*args: str, timeout: float = 60) -> None:
    proc = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], capture_output=True, text=True,
                          timeout=timeout, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"ffmpeg failed: {proc.stderr[-2000:]}")


# SDR patches (red, near-white, grey, skin) that hdr_patches writes as HDR.
HDR_PATCHES = [(200, 60, 40), (235, 235, 235), (128, 128, 128), (224, 172, 140)]


def hdr_patches(path: Path, transfer: str) -> Path:
    """A 320x180 10-bit BT.2020 HEVC clip (1 s) of HDR_PATCHES side by side, with ``transfer`` HLG
    ("arib-std-b67") or PQ ("smpte2084"), placed in HDR as BT.2408 places SDR (its white at 203
    nits), as phones record by default."""
    from media_assets.render.runner import default_ffmpeg

    colours = "".join(f"color=c=0x{r:02X}{g:02X}{b:02X}:s=80x180:r=30:d=1,format=gbrp[p{i}];"
                      for i, (r, g, b) in enumerate(HDR_PATCHES))
    subprocess.run([default_ffmpeg(), "-v", "error", "-nostdin", "-y", "-filter_complex",
                    f"{colours}[p0][p1][p2][p3]hstack=4,zscale=tin=bt709:pin=bt709:min=gbr:rin=full:t={transfer}"
                    ":p=bt2020:m=2020_ncl:r=limited:npl=203,format=yuv420p10le", "-c:v", "libx265",
                    "-x265-params", "log-level=error", "-colorspace", "bt2020nc", "-color_primaries", "bt2020",
                    "-color_trc", transfer, str(path)], check=True, capture_output=True, timeout=60)
    return path


def probe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    return json.loads(out)


def frame_at(path: Path, t: float) -> np.ndarray:
    """The decoded RGB frame shown at time ``t`` (accurate seek)."""
    info = next(s for s in probe(path)["streams"] if s["codec_type"] == "video")
    w, h = int(info["width"]), int(info["height"])
    raw = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-ss", f"{t:.3f}", "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], capture_output=True, timeout=60,
                         check=True).stdout
    return np.frombuffer(raw, dtype=np.uint8)[: w * h * 3].reshape(h, w, 3)


def audio_samples(path: Path) -> np.ndarray:
    """Mono float samples at 48 kHz."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-vn", "-ac", "1", "-ar", "48000",
                          "-f", "f32le", "pipe:1"], capture_output=True, timeout=60, check=True).stdout
    return np.frombuffer(raw, dtype=np.float32)


def tone_level(samples: np.ndarray, *, start: float, end: float, freq: float, rate: int = 48000) -> float:
    """Amplitude of one frequency in a window (FFT with a Hann window)."""
    seg = samples[int(start * rate):int(end * rate)]
    spectrum = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
    freqs = np.fft.rfftfreq(len(seg), 1 / rate)
    band = (freqs > freq - 15) & (freqs < freq + 15)
    return float(spectrum[band].max())


def loudness(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) measured by ffmpeg's ebur128."""
    proc = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-nostats", "-i", str(path), "-vn",
                           "-af", "ebur128=peak=true", "-f", "null", "-"], capture_output=True, text=True,
                          timeout=60, check=True)
    summary = proc.stderr[proc.stderr.rindex("Summary:"):]
    integrated = float(re.search(r"I:\s*(-?[\d.]+) LUFS", summary).group(1))
    peak = float(re.search(r"Peak:\s*(-?[\d.]+) dBFS", summary).group(1))
    return integrated, peak


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is required: run `make test`, which installs it")
    d = tmp_path_factory.mktemp("editor-media")
    m = {name: d / name for name in (
        "bars.mp4", "testsrc.mp4", "red.mp4", "blue.mp4", "grey.mp4", "marker.mp4", "photo.png",
        "logo.png", "voice.wav", "music.wav", "speech.wav", "long.mp4",
    )}
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    ffmpeg("-f", "lavfi", "-i", "smptebars=s=640x360:r=25:d=2", "-f", "lavfi", "-i", "sine=f=440:d=2",
           *x264, "-c:a", "aac", "-shortest", str(m["bars.mp4"]))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=2", *x264, str(m["testsrc.mp4"]))
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=320x180:r=30:d=1.5", *x264, str(m["red.mp4"]))
    ffmpeg("-f", "lavfi", "-i", "color=c=blue:s=320x180:r=30:d=1.5", *x264, str(m["blue.mp4"]))
    ffmpeg("-f", "lavfi", "-i", "color=c=0x303030:s=320x568:r=30:d=4", *x264, str(m["grey.mp4"]))
    # 16:9 source, dark, with a bright marker centred at x = 0.8 of the width.
    ffmpeg("-f", "lavfi", "-i", "color=c=0x202020:s=640x360:r=30:d=1.5,drawbox=x=492:y=160:w=40:h=40:color=white:t=fill",
           *x264, str(m["marker.mp4"]))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=480x360", "-frames:v", "1", str(m["photo.png"]))
    ffmpeg("-f", "lavfi", "-i", "color=c=magenta:s=64x64", "-frames:v", "1", str(m["logo.png"]))
    # "Voice": a 220 Hz burst from 1.0 s to 2.0 s; music: a steady 880 Hz tone.
    ffmpeg("-f", "lavfi", "-i", "sine=f=220:d=1:sample_rate=48000,adelay=1000:all=1,apad=whole_dur=3",
           str(m["voice.wav"]))
    ffmpeg("-f", "lavfi", "-i", "sine=f=880:d=2:sample_rate=44100", str(m["music.wav"]))
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=20", *x264, str(m["long.mp4"]))
    if shutil.which("espeak-ng"):
        subprocess.run(["espeak-ng", "-w", str(m["speech.wav"]), "Meet the bottle that keeps coffee hot."],
                       check=True, timeout=30, capture_output=True)
    else:
        ffmpeg("-f", "lavfi", "-i", "sine=f=300:d=2", str(m["speech.wav"]))
    return m


SRT = """1
00:00:00,500 --> 00:00:01,500
Hello <i>bright</i> world

2
00:00:02,000 --> 00:00:03,000
Second line
"""


@pytest.fixture
def library(workspace, media, media_root, tmp_path):
    """Real assets of ``workspace`` made from the engine tests' tiny media."""
    def add(name: str, kind: str | None = None, **kw):
        return asset_create_from_file(workspace=workspace, path=media[name], source="uploaded", kind=kind,
                                      make_previews=kw.pop("previews", False), **kw)

    subtitle = tmp_path / "captions.srt"
    subtitle.write_text(SRT, encoding="utf-8")
    return {
        "red": add("red.mp4"), "blue": add("blue.mp4"), "photo": add("photo.png"), "logo": add("logo.png"),
        "marker": add("marker.mp4"), "voice": add("voice.wav"), "music": add("music.wav"),
        "srt": asset_create_from_file(workspace=workspace, path=subtitle, source="uploaded", kind="subtitle"),
    }


@pytest.fixture(autouse=True)
def _private_media(media_root):
    """Every test here stores media in its own folder (tests/conftest.py: media_root)."""
    return media_root

"""Helpers for generation tests that check real media: ffprobe, decoded frames, test images."""

from __future__ import annotations

import json
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw


def ffprobe_video(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [
            "ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
            "-show_entries", "stream=codec_name,pix_fmt,width,height,nb_read_frames,avg_frame_rate:format=duration",
            "-of", "json", str(path),
        ],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    data = json.loads(out.stdout)
    stream = data["streams"][0]
    num, den = stream["avg_frame_rate"].split("/")
    return {
        "codec": stream["codec_name"],
        "pix_fmt": stream["pix_fmt"],
        "width": int(stream["width"]),
        "height": int(stream["height"]),
        "frames": int(stream["nb_read_frames"]),
        "fps": int(num) / int(den),
        "duration": float(data["format"]["duration"]),
    }


def decode_frames(path: Path) -> np.ndarray:
    """All frames as an (n, height, width, 3) uint8 array."""
    info = ffprobe_video(path)
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
        capture_output=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, info["height"], info["width"], 3)


def top_level_atoms(path: Path) -> list[str]:
    """The MP4's top-level box types in file order (moov before mdat means faststart)."""
    names: list[str] = []
    data = path.read_bytes()
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        elif size == 0:
            size = len(data) - pos
        names.append(kind.decode("latin-1"))
        pos += size
    return names


@pytest.fixture
def probe() -> Callable[[Path], dict[str, Any]]:
    return ffprobe_video


@pytest.fixture
def frames_of() -> Callable[[Path], np.ndarray]:
    return decode_frames


@pytest.fixture
def atoms_of() -> Callable[[Path], list[str]]:
    return top_level_atoms


@pytest.fixture
def square_image(tmp_path: Path) -> Path:
    """A light 400x400 image with a dark centred 100x100 square: motion is measured on it."""
    image = Image.new("RGB", (400, 400), (225, 225, 220))
    ImageDraw.Draw(image).rectangle((150, 150, 249, 249), fill=(10, 10, 10))
    path = tmp_path / "square.png"
    image.save(path)
    return path

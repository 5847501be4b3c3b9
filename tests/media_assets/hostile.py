"""Builders of real and hostile media files for the media_assets tests.

Valid media is produced by ffmpeg / Pillow; hostile files are written byte by
byte so each test states exactly what the attacker controls.
"""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

from PIL import Image


def ffmpeg(*args: str, timeout: float = 60) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", *args],
        check=True,
        timeout=timeout,
        capture_output=True,
    )


def make_mp4(
    path: Path, *, seconds: float = 1.0, size: str = "160x90", rate: int = 25, faststart: bool = False
) -> Path:
    """A real H.264/AAC MP4: colour bars with a 440 Hz tone."""
    extra = ["-movflags", "+faststart"] if faststart else []
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "64k", "-shortest", *extra, str(path),
    )
    return path


def make_mp3(path: Path, *, seconds: float = 1.0) -> Path:
    ffmpeg(
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
        "-c:a", "libmp3lame", "-b:a", "64k", str(path),
    )
    return path


def make_silent_wav(path: Path, *, seconds: float = 1.0) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"anullsrc=r=22050:cl=mono:d={seconds}", "-c:a", "pcm_s16le", str(path))
    return path


def make_png(path: Path, *, size: tuple[int, int] = (64, 48)) -> Path:
    im = Image.new("RGB", size, (200, 30, 30))
    im.paste((30, 30, 200), (0, 0, size[0] // 2, size[1]))
    im.save(path, "PNG")
    return path


def make_jpeg_with_exif(path: Path, *, size: tuple[int, int] = (80, 40), orientation: int = 6) -> Path:
    """A JPEG carrying GPS-like EXIF data and an orientation tag (6 = rotate 90° CW)."""
    im = Image.new("RGB", size, (10, 160, 60))
    im.paste((250, 250, 250), (0, 0, size[0] // 4, size[1]))
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x010F] = "SpyCam Inc"  # Make
    exif[0x0131] = "secret-software 1.0"  # Software
    im.save(path, "JPEG", exif=exif.tobytes(), quality=90)
    return path


def hls_playlist(path: Path, *, segment_uri: str) -> Path:
    """An HLS playlist renamed .mp4 whose only segment is ``segment_uri``."""
    path.write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXTINF:10.0,\n{segment_uri}\n#EXT-X-ENDLIST\n"
    )
    return path


def ffconcat_list(path: Path, *, target: str) -> Path:
    path.write_text(f"ffconcat version 1.0\nfile '{target}'\n")
    return path


def svg_as_png(path: Path) -> Path:
    path.write_text(
        '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        "<script>alert(document.cookie)</script><rect width='10' height='10'/></svg>\n"
    )
    return path


def html_as_png(path: Path) -> Path:
    path.write_text("<!doctype html><html><body><script>fetch('/api/keys')</script></body></html>\n")
    return path


def truncate(src: Path, dst: Path, *, keep: float) -> Path:
    """Copy the first ``keep`` fraction of ``src`` to ``dst``."""
    data = src.read_bytes()
    dst.write_bytes(data[: max(1, int(len(data) * keep))])
    return dst


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_bomb(path: Path, *, side: int = 20000) -> Path:
    """A valid single-colour greyscale PNG of side x side pixels that is tiny on disk.

    Compressing side*side bytes takes seconds, so one band of rows is deflated
    once, ended with a full flush (byte-aligned, no back-references) and the
    compressed band is repeated; the zlib trailer's Adler-32 covers all rows.
    """
    band_rows = 100
    assert side % band_rows == 0
    band = (b"\x00" + b"\x00" * side) * band_rows  # filter byte + one byte per pixel, per row
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    compressed_band = raw.compress(band) + raw.flush(zlib.Z_FULL_FLUSH)
    final_block = raw.flush(zlib.Z_FINISH)
    adler = 1
    for _ in range(side // band_rows):
        adler = zlib.adler32(band, adler)
    idat = b"\x78\xda" + compressed_band * (side // band_rows) + final_block + struct.pack(">I", adler)
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    chunks = _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunks)
    return path

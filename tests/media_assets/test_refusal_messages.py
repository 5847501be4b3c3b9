"""A refused upload says why in words a marketer can act on: no FFmpeg error numbers, no file: URLs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.media_assets import hostile
from tests.media_assets.conftest import requires_ffmpeg

pytestmark = [pytest.mark.django_db, requires_ffmpeg]


def test_a_cut_short_video_is_refused_with_a_plain_reason(client, owner, workspace, media_root, mp4_file, tmp_path: Path):
    client.force_login(owner)
    cut = hostile.truncate(mp4_file, tmp_path / "cut.mp4", keep=0.4)  # its moov (index) is at the end: gone
    response = client.post(
        reverse("media_assets:asset-upload"),
        {"file": SimpleUploadedFile("summer ad.mp4", cut.read_bytes())},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["name"], error["reason"]) == ("summer ad.mp4", "unreadable")
    message = error["message"]
    assert message.startswith("The media file could not be read (corrupt or truncated): Invalid data found when processing input")
    assert "moov atom not found" in message  # FFmpeg's own clue is kept
    assert not re.search(r"Errno|file:|'|/tmp|\[mov", message), message

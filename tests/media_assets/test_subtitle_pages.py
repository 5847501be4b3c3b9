"""Subtitle files in the library: their card names the format (SRT, WebVTT, ASS), so captions.srt
and captions.vtt can be told apart, and their page lists their cues (at most 200)."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from media_assets import services

pytestmark = pytest.mark.django_db

SRT = "1\n00:00:00,500 --> 00:00:02,000\nNew <i>bottle</i>, now 20% off\n\n2\n00:00:02,500 --> 00:00:04,000\nOrder today\n"
VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nHello there\n"
ASS = ("[Script Info]\nScriptType: v4.00+\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
       "Dialogue: 0,0:00:01.00,0:00:02.50,Default,,0,0,0,,Ready, set {\\b1}go\n")


def upload(workspace, owner, name, text):
    file = SimpleUploadedFile(name, text.encode("utf-8"))
    return services.asset_ingest_upload(workspace=workspace, uploaded_file=file, user=owner).asset


def card(html, asset):
    match = re.search(rf'<article class="asset-card[^"]*" data-asset-id="{asset.pk}".*?</article>', html, re.S)
    assert match, html
    return match.group(0)


def test_each_subtitle_card_names_its_format(client, owner, workspace):
    client.force_login(owner)
    srt = upload(workspace, owner, "captions.srt", SRT)
    vtt = upload(workspace, owner, "captions.vtt", VTT)
    ass = upload(workspace, owner, "captions.ass", ASS)
    html = client.get(reverse("media_assets:asset-list")).content.decode()
    assert '<span class="asset-kind">Subtitle · SRT</span>' in card(html, srt)
    assert '<span class="asset-kind">Subtitle · WebVTT</span>' in card(html, vtt)
    assert '<span class="asset-kind">Subtitle · ASS</span>' in card(html, ass)
    single = client.get(reverse("media_assets:asset-card", kwargs={"pk": vtt.pk})).content.decode()
    assert "Subtitle · WebVTT" in single


def test_a_subtitle_page_lists_its_cues_instead_of_no_preview(client, owner, workspace):
    client.force_login(owner)
    srt = upload(workspace, owner, "captions.srt", SRT)
    html = client.get(reverse("media_assets:asset-detail", kwargs={"pk": srt.pk})).content.decode()
    assert "No preview" not in html
    assert re.findall(r'<span class="cue-time mono small">(.*?)</span><span class="cue-text">(.*?)</span>', html) == [
        ("0:00.500–0:02.000", "New bottle, now 20% off"), ("0:02.500–0:04.000", "Order today"),
    ]
    assert "SRT · 2 cues" in html
    ass = upload(workspace, owner, "captions.ass", ASS)
    html = client.get(reverse("media_assets:asset-detail", kwargs={"pk": ass.pk})).content.decode()
    assert '<span class="cue-time mono small">0:01.000–0:02.500</span><span class="cue-text">Ready, set go</span>' in html


def test_a_long_subtitle_page_shows_the_first_200_cues(client, owner, workspace):
    client.force_login(owner)
    blocks = [f"{i + 1}\n01:{i // 60:02d}:{i % 60:02d},000 --> 01:{i // 60:02d}:{i % 60:02d},900\nLine {i + 1}\n" for i in range(250)]
    long = upload(workspace, owner, "long.srt", "\n".join(blocks))
    html = client.get(reverse("media_assets:asset-detail", kwargs={"pk": long.pk})).content.decode()
    assert html.count('class="cue-time') == 200
    assert "1:00:00.000–1:00:00.900" in html and "Line 200<" in html and "Line 201<" not in html
    assert "The first 200 of 250 cues." in html

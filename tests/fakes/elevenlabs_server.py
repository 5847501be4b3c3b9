"""A fake ElevenLabs text-to-speech API speaking the documented protocol (reference/apis/elevenlabs.md).

- `xi-api-key` must equal `ElevenLabsFake.api_key` (else 401 `invalid_api_key`);
- `POST /v1/text-to-speech/{voice_id}` answers real audio bytes (espeak-ng + ffmpeg) in the
  requested `output_format` (mp3_*, wav_*, pcm_*); `/with-timestamps` answers
  `{"audio_base64", "alignment", "normalized_alignment"}` with one start/end time per input
  character, increasing, spread over the speech;
- bodies are validated FastAPI-style (422 `{"detail": [...]}`): text required and non-empty,
  known model_id, voice_settings ranges, text length within the model's limit (400
  `max_character_limit_exceeded`); unknown voices answer 404 `voice_not_found`;
- `POST /v1/music?output_format=` (reference/apis/music.md) validates `prompt` xor `composition_plan`,
  `music_length_ms` 3000-600000 with a prompt, `model_id` music_v1/music_v2, no `seed` with a prompt,
  and answers real MP3 bytes a little longer than asked (the real length is approximate);
- `GET /v1/voices` lists the fake's voices. Failures are injected with `inject()` (base toolkit).
"""

from __future__ import annotations

import base64
import subprocess
import tempfile
from pathlib import Path

from tests.fakes.video_common import FakeVideoServer, Reply, Request, route

MODEL_LIMITS = {"eleven_multilingual_v2": 10_000, "eleven_flash_v2_5": 40_000, "eleven_turbo_v2_5": 40_000, "eleven_v3": 5_000}
VOICES = [
    {"voice_id": "JBFqnCBsd6RMkjVDRZzb", "name": "George", "labels": {"language": "en", "gender": "male"}},
    {"voice_id": "EXAVITQu4vr4xnSDxMaL", "name": "Sarah", "labels": {"language": "en", "gender": "female"}},
]


def speak(text: str, *, voice: str = "en-us") -> bytes:
    """WAV bytes (22.05 kHz mono) of `text`, spoken by the espeak-ng command line."""
    done = subprocess.run(["espeak-ng", "-v", voice, "--stdout", text], capture_output=True, timeout=60, check=True)
    return done.stdout


def transcode(wav: bytes, *, fmt: str) -> bytes:
    """WAV bytes -> an ElevenLabs output_format (codec_samplerate_bitrate)."""
    codec, _, rest = fmt.partition("_")
    rate = rest.split("_")[0]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.wav"
        src.write_bytes(wav)
        args = {"mp3": ["-c:a", "libmp3lame", "-b:a", f"{(rest.split('_') + ['128'])[1]}k", "-f", "mp3"],
                "wav": ["-c:a", "pcm_s16le", "-f", "wav"],
                "pcm": ["-c:a", "pcm_s16le", "-f", "s16le"]}[codec]
        done = subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(src), "-ac", "1", "-ar", rate, *args, "pipe:1"],
            capture_output=True, timeout=60, check=True,
        )
        return done.stdout


def wav_duration(wav: bytes) -> float:
    import io
    import wave

    # espeak-ng --stdout cannot seek back to fill in the data size: count the bytes after the header.
    with wave.open(io.BytesIO(wav)) as handle:
        bytes_per_second = handle.getframerate() * handle.getsampwidth() * handle.getnchannels()
    return (len(wav) - 44) / bytes_per_second


class ElevenLabsFake(FakeVideoServer):
    vendor = "elevenlabs"
    api_key = "el-test-key-123456"

    def error_body(self, status: int, message: str, code: str = "") -> dict:
        if status == 422:
            return {"detail": [{"loc": ["body"], "msg": message, "type": "value_error"}]}
        return {"detail": {"status": code or "error", "message": message}}

    def _auth(self, req: Request) -> Reply | None:
        if req.header("xi-api-key") != self.api_key:
            return self.error(401, "Invalid API key", "invalid_api_key")
        return None

    def _validate(self, req: Request, voice_id: str) -> Reply | dict:
        if (denied := self._auth(req)) is not None:
            return denied
        body = req.json
        if not isinstance(body, dict):
            return self.error(422, "body must be a JSON object")
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return self.error(422, "field required: text")
        model = body.get("model_id", "eleven_multilingual_v2")
        if model not in MODEL_LIMITS:
            return self.error(422, f"unknown model_id {model}")
        settings = body.get("voice_settings") or {}
        for name in ("stability", "similarity_boost", "style"):
            if name in settings and not 0 <= float(settings[name]) <= 1:
                return self.error(422, f"voice_settings.{name} must be within 0..1")
        if "speed" in settings and not 0.7 <= float(settings["speed"]) <= 1.2:
            return self.error(422, "voice_settings.speed must be within 0.7..1.2")
        if len(text) > MODEL_LIMITS[model]:
            return self.error(400, f"text longer than {MODEL_LIMITS[model]} characters", "max_character_limit_exceeded")
        if voice_id not in {v["voice_id"] for v in VOICES}:
            return self.error(404, f"voice {voice_id} not found", "voice_not_found")
        fmt = req.query.get("output_format", "mp3_44100_128")
        if fmt.split("_")[0] not in {"mp3", "wav", "pcm"}:
            return self.error(422, f"unsupported output_format {fmt}")
        return {"text": text, "format": fmt}

    @route("POST", r"/v1/text-to-speech/(?P<voice_id>[^/]+)")
    def convert(self, req: Request, voice_id: str) -> Reply:
        checked = self._validate(req, voice_id)
        if isinstance(checked, Reply):
            return checked
        audio = transcode(speak(checked["text"]), fmt=checked["format"])
        mime = {"mp3": "audio/mpeg", "wav": "audio/wav", "pcm": "audio/pcm"}[checked["format"].split("_")[0]]
        return Reply(200, audio, headers={"Content-Type": mime, "request-id": self.new_id()})

    @route("POST", r"/v1/text-to-speech/(?P<voice_id>[^/]+)/with-timestamps")
    def convert_with_timestamps(self, req: Request, voice_id: str) -> Reply:
        checked = self._validate(req, voice_id)
        if isinstance(checked, Reply):
            return checked
        text = checked["text"]
        wav = speak(text)
        duration = wav_duration(wav)
        # Characters evenly over the speech (minus espeak's trailing pause): increasing, never overlapping.
        span = max(0.1, duration - 0.3)
        step = span / len(text)
        starts = [round(i * step, 3) for i in range(len(text))]
        ends = [round((i + 1) * step, 3) for i in range(len(text))]
        alignment = {"characters": list(text), "character_start_times_seconds": starts, "character_end_times_seconds": ends}
        return Reply(200, {
            "audio_base64": base64.b64encode(transcode(wav, fmt=checked["format"])).decode(),
            "alignment": alignment,
            "normalized_alignment": alignment,
        }, headers={"request-id": self.new_id()})

    @route("POST", r"/v1/music")
    def compose(self, req: Request) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        body = req.json if isinstance(req.json, dict) else {}
        problems = []
        if bool(body.get("prompt")) == bool(body.get("composition_plan")):
            problems.append({"loc": ["body", "prompt"], "msg": "give either prompt or composition_plan", "type": "value_error"})
        length = body.get("music_length_ms")
        if body.get("prompt") and not (isinstance(length, int) and 3000 <= length <= 600_000):
            problems.append({"loc": ["body", "music_length_ms"], "msg": "must be 3000-600000", "type": "value_error"})
        if body.get("prompt") and body.get("seed") is not None:
            problems.append({"loc": ["body", "seed"], "msg": "seed cannot be used with prompt", "type": "value_error"})
        if body.get("model_id", "music_v1") not in ("music_v1", "music_v2"):
            problems.append({"loc": ["body", "model_id"], "msg": "unknown model", "type": "value_error"})
        fmt = req.query.get("output_format", "mp3_44100_128")
        if not fmt.startswith("mp3_"):
            problems.append({"loc": ["query", "output_format"], "msg": "this fake serves mp3 only", "type": "value_error"})
        if problems:
            return Reply(422, {"detail": problems})
        seconds = (length or 10_000) / 1000 + 0.3
        done = subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-f", "lavfi", "-i", f"sine=f=220:d={seconds}",
             "-f", "lavfi", "-i", f"sine=f=330:d={seconds}", "-filter_complex", "amix=inputs=2,volume=2",
             "-ac", "2", "-ar", "44100", "-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3", "pipe:1"],
            capture_output=True, timeout=60, check=True,
        )
        self.switches.extra["last_music_body"] = body
        return Reply(200, done.stdout, headers={"Content-Type": "audio/mpeg", "song-id": self.new_id()})

    @route("GET", r"/v1/voices")
    def voices(self, req: Request) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        return Reply(200, {"voices": VOICES})

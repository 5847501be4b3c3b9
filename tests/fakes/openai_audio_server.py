"""A fake OpenAI audio API: speech (`POST /v1/audio/speech`) and transcription
(`POST /v1/audio/transcriptions`), shapes as in the openai-python SDK.

- `Authorization: Bearer <OpenAIAudioFake.api_key>` or 401 `invalid_api_key`;
- speech: JSON body {model, input (<= 4096 chars), voice, response_format, speed 0.25..4.0,
  instructions?}; answers real audio (espeak-ng + ffmpeg) in the response_format
  (mp3, wav, pcm, flac, opus, aac);
- transcription: multipart form with `file`, `model`, optional `language`, `response_format`,
  repeated `timestamp_granularities[]`. The fake cannot recognise speech: it answers the text
  set in `transcript_text` (the test states what the audio says), with words spread over the
  uploaded file's real duration (ffprobe). `verbose_json` gives {task, language, duration, text,
  segments, words}; only whisper-1 accepts verbose_json and timestamp granularities (400 otherwise);
- errors have OpenAI's shape {"error": {"message", "type", "param", "code"}}; inject() for more.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from pathlib import Path

from tests.fakes.elevenlabs_server import speak
from tests.fakes.runway_server import parse_multipart
from tests.fakes.video_common import FakeVideoServer, Reply, Request, route

SPEECH_MODELS = {"tts-1", "tts-1-hd", "gpt-4o-mini-tts"}
VOICES = {"alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse"}
FORMATS = {
    "mp3": ["-c:a", "libmp3lame", "-f", "mp3"], "wav": ["-c:a", "pcm_s16le", "-f", "wav"],
    "pcm": ["-c:a", "pcm_s16le", "-ar", "24000", "-f", "s16le"], "flac": ["-c:a", "flac", "-f", "flac"],
    "opus": ["-c:a", "libopus", "-f", "ogg"], "aac": ["-c:a", "aac", "-f", "adts"],
}
TRANSCRIBE_MODELS = {"whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"}
LANGUAGE_NAMES = {"en": "english", "fr": "french", "de": "german", "es": "spanish"}


def _ffmpeg(src: bytes, args: list[str]) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in"
        path.write_bytes(src)
        return subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(path), *args, "pipe:1"],
            capture_output=True, timeout=60, check=True,
        ).stdout


def _duration(data: bytes) -> float | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload"
        path.write_bytes(data)
        done = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
            capture_output=True, timeout=30, check=False,
        )
    try:
        return float(json.loads(done.stdout)["format"]["duration"])
    except (ValueError, KeyError, TypeError):
        return None


class OpenAIAudioFake(FakeVideoServer):
    vendor = "openai"
    api_key = "sk-test-openai-audio"

    def __init__(self) -> None:
        super().__init__()
        self.transcript_text = "Hello from the fake transcription service."
        self.language = "en"

    def error_body(self, status: int, message: str, code: str = "") -> dict:
        kind = {401: "invalid_request_error", 429: "requests", 500: "server_error"}.get(status, "invalid_request_error")
        return {"error": {"message": message, "type": kind, "param": None, "code": code or None}}

    def _auth(self, req: Request) -> Reply | None:
        if req.header("authorization") != f"Bearer {self.api_key}":
            return self.error(401, "Incorrect API key provided.", "invalid_api_key")
        return None

    @route("POST", r"/v1/audio/speech")
    def speech(self, req: Request) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        body = req.json
        if not isinstance(body, dict):
            return self.error(400, "We could not parse the JSON body of your request.")
        text = body.get("input")
        if not isinstance(text, str) or not text:
            return self.error(400, "Missing required parameter: 'input'.", "missing_required_parameter")
        if len(text) > 4096:
            return self.error(400, "'input' is too long: 4096 characters maximum.", "string_above_max_length")
        if body.get("model") not in SPEECH_MODELS:
            return self.error(400, f"Invalid model {body.get('model')!r}.", "invalid_value")
        if body.get("voice") not in VOICES:
            return self.error(400, f"Invalid voice {body.get('voice')!r}.", "invalid_value")
        fmt = body.get("response_format", "mp3")
        if fmt not in FORMATS:
            return self.error(400, f"Invalid response_format {fmt!r}.", "invalid_value")
        speed = body.get("speed", 1.0)
        if not isinstance(speed, (int, float)) or not 0.25 <= speed <= 4.0:
            return self.error(400, "speed must be between 0.25 and 4.0", "invalid_value")
        if "instructions" in body and body["model"] in {"tts-1", "tts-1-hd"}:
            return self.error(400, "instructions are not supported by tts-1 models", "invalid_value")
        audio = _ffmpeg(speak(text), ["-ac", "1", *FORMATS[fmt]])
        return Reply(200, audio, headers={"Content-Type": "audio/wav" if fmt == "wav" else "audio/mpeg"})

    @route("POST", r"/v1/audio/transcriptions")
    def transcriptions(self, req: Request) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        if not req.header("content-type").startswith("multipart/form-data"):
            return self.error(400, "Expected multipart/form-data")
        fields, files = parse_multipart(req)
        if "file" not in files:
            return self.error(400, "Missing required parameter: 'file'.", "missing_required_parameter")
        model = fields.get("model")
        if model not in TRANSCRIBE_MODELS:
            return self.error(400, f"Invalid model {model!r}.", "invalid_value")
        fmt = fields.get("response_format", "json")
        granularities = re.findall(rb'name="timestamp_granularities\[\]"\r\n\r\n(\w+)', req.body)
        if (fmt == "verbose_json" or granularities) and model != "whisper-1":
            return self.error(400, f"response_format 'verbose_json' is not compatible with {model}", "unsupported_value")
        if granularities and fmt != "verbose_json":
            return self.error(400, "timestamp_granularities requires response_format verbose_json", "invalid_value")
        duration = _duration(files["file"])
        if duration is None:
            return self.error(400, "Invalid file format.", "invalid_value")
        text = self.transcript_text
        if fmt != "verbose_json":
            return Reply(200, {"text": text})
        tokens = text.split()
        step = duration * 0.9 / max(1, len(tokens))
        words = [{"word": re.sub(r"[^\w'-]", "", t), "start": round(i * step, 2), "end": round((i + 0.8) * step, 2)}
                 for i, t in enumerate(tokens)]
        segment = {"id": 0, "seek": 0, "start": 0.0, "end": round(duration * 0.9, 2), "text": " " + text,
                   "tokens": [], "temperature": 0.0, "avg_logprob": -0.2, "compression_ratio": 1.2, "no_speech_prob": 0.01}
        body = {"task": "transcribe", "language": LANGUAGE_NAMES.get(self.language, self.language),
                "duration": round(duration, 3), "text": text, "segments": [segment]}
        if b"word" in granularities:
            body["words"] = words
        return Reply(200, body)

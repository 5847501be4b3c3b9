"""A fake gateway speaking OpenAI's video protocol (/v1/videos).

Checks the Bearer key, accepts multipart (the SDK's form) and JSON create bodies, validates
`seconds` (strings "4"/"8"/"12"), `size`, `model` (sora-2* are shut down: 404 model_not_found) and
the `input_reference` image (PNG/JPEG/WEBP bytes), walks queued -> in_progress (integer progress)
-> completed/failed, sets `openai-poll-after-ms`, serves `/content?variant=video` with the same
auth until `expires_at` (24 h after completion; 404 after), remixes, lists with `after`/`has_more`,
deletes, and signs webhook events with Standard Webhooks. Errors use OpenAI's
`{"error": {"message", "type", "param", "code"}}` body.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import json
import secrets
import time
from typing import Any

from generation.providers.webhooks import standard_webhook_headers
from tests.fakes.video_common import FakeTask, FakeVideoServer, Reply, Request, clip_for, clip_mp4, route

SECONDS = {"4", "8", "12"}
SIZES = {"720x1280", "1280x720", "1024x1792", "1792x1024"}
SERVED_MODELS = {"gw-video-1", "gw-video-fast"}
RETIRED = ("sora-2",)
IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"RIFF")


def parse_form(req: Request) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """(fields, files name -> (filename, bytes)) of a multipart/form-data body."""
    raw = b"Content-Type: " + req.header("content-type").encode() + b"\r\n\r\n" + req.body
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    if not message.is_multipart():
        return fields, files
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename():
            files[name] = (part.get_filename(), payload)
        else:
            fields[name] = payload.decode()
    return fields, files


class OpenAIVideoFake(FakeVideoServer):
    vendor = "openai_video"
    api_key = "sk-gateway-test-key-0123456789"
    webhook_secret = "whsec_" + base64.b64encode(b"openai-video-fake-webhook-secret").decode()
    expired_status = 404
    SEQUENCE = (("queued", None), ("in_progress", 0.2), ("in_progress", 0.6), ("in_progress", 0.9), ("completed", 1.0))
    poll_after_ms = 2000

    def error_body(self, status: int, message: str, code: str = "") -> Any:
        kind = {401: "invalid_request_error", 429: "rate_limit_error", 500: "server_error"}.get(status, "invalid_request_error")
        return {"error": {"message": message, "type": kind, "param": None, "code": code or None}}

    def _auth(self, req: Request) -> Reply | None:
        if req.header("authorization") != f"Bearer {self.api_key}":
            return self.error(401, "Incorrect API key provided.", "invalid_api_key")
        return None

    # -- create

    def _create_fields(self, req: Request) -> tuple[dict[str, Any], bytes | None] | Reply:
        ctype = req.header("content-type")
        if ctype.startswith("multipart/form-data"):
            fields, files = parse_form(req)
            image = files.get("input_reference", (None, None))[1]
            return dict(fields), image
        if ctype.startswith("application/json"):
            body = req.json
            if not isinstance(body, dict):
                return self.error(400, "Body must be a JSON object.")
            ref = body.pop("input_reference", None)
            if ref is not None and not (isinstance(ref, dict) and (ref.get("image_url") or ref.get("file_id"))):
                return self.error(400, "input_reference must be {image_url} or {file_id}.", "invalid_value")
            if isinstance(ref, dict) and ref.get("image_url"):
                body["_image_url"] = ref["image_url"]
            return body, None
        return self.error(400, f"Unsupported content type {ctype!r}.")

    @route("POST", r"/v1/videos")
    def create(self, req: Request) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        parsed = self._create_fields(req)
        if isinstance(parsed, Reply):
            return parsed
        fields, image = parsed
        if not fields.get("prompt"):
            return self.error(400, "Missing required parameter: 'prompt'.", "missing_required_parameter")
        model = str(fields.get("model") or "gw-video-1")
        if model.startswith(RETIRED):
            return self.error(404, f"The model '{model}' has been shut down.", "model_not_found")
        if model not in SERVED_MODELS:
            return self.error(400, f"Invalid model '{model}'.", "invalid_value")
        seconds = str(fields.get("seconds", "4"))
        if seconds not in SECONDS:
            return self.error(400, f"Invalid 'seconds': {seconds!r}; expected one of 4, 8, 12.", "invalid_value")
        size = str(fields.get("size", "720x1280"))
        if size not in SIZES:
            return self.error(400, f"Invalid 'size': {size!r}.", "invalid_value")
        if image is not None and not image.startswith(IMAGE_MAGIC):
            return self.error(400, "input_reference must be a JPEG, PNG or WEBP image.", "invalid_image")
        payload = {"prompt": fields["prompt"], "model": model, "seconds": seconds, "size": size,
                   "has_image": image is not None or bool(fields.get("_image_url")), "sent_model": fields.get("model")}
        task = self.new_task(payload, sequence=self.SEQUENCE, task_id=f"video_{secrets.token_hex(12)}")
        return Reply(200, self._video(task, advance=False), {"openai-poll-after-ms": str(self.poll_after_ms)})

    @route("POST", r"/v1/videos/(?P<vid>video_[^/]+)/remix")
    def remix(self, req: Request, vid: str) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        source = self.tasks.get(vid)
        if source is None or source.data.get("deleted"):
            return self.error(404, f"Video '{vid}' not found.", "not_found")
        if not source.finished:
            return self.error(400, "Only completed videos can be remixed.", "invalid_state")
        prompt = (req.json or {}).get("prompt")
        if not prompt:
            return self.error(400, "Missing required parameter: 'prompt'.", "missing_required_parameter")
        task = self.new_task({**source.payload, "prompt": prompt}, sequence=self.SEQUENCE, task_id=f"video_{secrets.token_hex(12)}")
        task.data["remixed_from"] = vid
        return Reply(200, self._video(task, advance=False), {"openai-poll-after-ms": str(self.poll_after_ms)})

    # -- read

    def _video(self, task: FakeTask, *, advance: bool) -> dict[str, Any]:
        if advance:
            status, progress = task.advance()
        elif task.polls:
            steps = task.sequence if task.outcome != "never" else task.sequence[:-1]
            status, progress = steps[min(task.polls - 1, len(steps) - 1)]
        else:
            status, progress = task.sequence[0]
        error = None
        if status == "completed" and task.outcome == "moderation":
            status, error = "failed", {"code": "moderation_blocked",
                                       "message": "Your request was blocked by our moderation system."}
        if status in ("completed", "failed") and "completed_at" not in task.data:
            task.data["completed_at"] = int(time.time())
            ttl = -60 if self.switches.expire_outputs else 86400
            task.data["expires_at"] = task.data["completed_at"] + ttl
        return {
            "id": task.id, "object": "video", "model": task.payload["model"], "status": status,
            "progress": int((progress or 0) * 100) if status != "completed" else 100,
            "created_at": int(task.created_at), "completed_at": task.data.get("completed_at"),
            "expires_at": task.data.get("expires_at") if status == "completed" else None,
            "seconds": task.payload["seconds"], "size": task.payload["size"], "prompt": task.payload["prompt"],
            "remixed_from_video_id": task.data.get("remixed_from"), "error": error,
        }

    def _live(self, vid: str) -> FakeTask | None:
        task = self.tasks.get(vid)
        return None if task is None or task.data.get("deleted") else task

    @route("GET", r"/v1/videos/(?P<vid>video_[^/]+)")
    def retrieve(self, req: Request, vid: str) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        task = self._live(vid)
        if task is None:
            return self.error(404, f"Video '{vid}' not found.", "not_found")
        return Reply(200, self._video(task, advance=True), {"openai-poll-after-ms": str(self.poll_after_ms)})

    @route("GET", r"/v1/videos/(?P<vid>video_[^/]+)/content")
    def content(self, req: Request, vid: str) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        task = self._live(vid)
        if task is None:
            return self.error(404, f"Video '{vid}' not found.", "not_found")
        variant = req.query.get("variant", "video")
        if variant not in ("video", "thumbnail", "spritesheet"):
            return self.error(400, f"Invalid variant {variant!r}.", "invalid_value")
        if not task.finished or task.outcome != "success":
            return self.error(400, "Video is not ready.", "video_not_ready")
        if task.data["expires_at"] < time.time():
            return self.error(404, "The video's assets have expired.", "video_expired")
        if variant != "video":
            return self.error(404, f"No {variant} for this video.", "not_found")
        clip = clip_for(prompt=task.payload["prompt"], duration=task.payload["seconds"], size=task.payload["size"])
        return Reply(200, clip_mp4(clip), {"Content-Type": "video/mp4"})

    @route("GET", r"/v1/videos")
    def list_videos(self, req: Request) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        videos = [t for t in self.tasks.values() if not t.data.get("deleted")]
        videos.sort(key=lambda t: t.created_at, reverse=req.query.get("order", "desc") == "desc")
        after = req.query.get("after")
        if after:
            ids = [t.id for t in videos]
            videos = videos[ids.index(after) + 1:] if after in ids else []
        limit = int(req.query.get("limit", "20"))
        page = videos[:limit]
        data = [self._video(t, advance=False) for t in page]
        return Reply(200, {"object": "list", "data": data, "first_id": data[0]["id"] if data else None,
                           "last_id": data[-1]["id"] if data else None, "has_more": len(videos) > limit})

    @route("DELETE", r"/v1/videos/(?P<vid>video_[^/]+)")
    def delete(self, req: Request, vid: str) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        task = self._live(vid)
        if task is None:
            return self.error(404, f"Video '{vid}' not found.", "not_found")
        task.data["deleted"] = True
        return Reply(200, {"id": vid, "object": "video.deleted", "deleted": True})

    # -- webhooks

    def webhook_for(self, vid: str, *, kind: str = "video.completed", valid: bool = True, age_seconds: float = 0) -> tuple[dict[str, str], bytes]:
        """A signed event as the platform POSTs it (envelope with data.id)."""
        task = self.tasks[vid]
        task.polls = max(task.polls, len(task.sequence))
        event = {"id": f"evt_{secrets.token_hex(8)}", "object": "event", "type": kind,
                 "created_at": int(time.time() - age_seconds), "data": {"id": vid}}
        body = json.dumps(event).encode()
        secret = self.webhook_secret if valid else "whsec_" + base64.b64encode(b"some-other-secret-of-32-bytes!!!").decode()
        headers = standard_webhook_headers(secret=secret, body=body, msg_id=f"wh_{secrets.token_hex(8)}",
                                           timestamp=int(time.time() - age_seconds))
        return {**headers, "Content-Type": "application/json"}, body

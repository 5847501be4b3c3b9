"""A fake Luma AI: the Agents API under /v1 and the legacy Dream Machine API under /dream-machine/v1,
each with its own bearer key, body validation and state sequence; outputs are signed expiring URLs."""

from __future__ import annotations

import base64
import binascii

from tests.fakes.video_common import FakeVideoServer, Reply, Request, clip_for, route

AGENTS_RATIOS = {"3:1", "2:1", "21:9", "16:9", "4:3", "3:2", "1:1", "3:4", "2:3", "9:16", "1:2", "1:3"}
LEGACY_RATIOS = {"1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"}


class LumaFake(FakeVideoServer):
    vendor = "luma"
    agents_key = "luma-api-test-key"
    legacy_key = "luma-legacy-test-key"
    AGENTS_SEQUENCE = (("queued", None), ("processing", None), ("processing", None), ("completed", None))
    LEGACY_SEQUENCE = (("queued", None), ("dreaming", None), ("dreaming", None), ("completed", None))

    def error_body(self, status: int, message: str, code: str = "") -> dict:
        return {"detail": message}

    def _auth(self, req: Request, key: str) -> Reply | None:
        if req.header("authorization") != f"Bearer {key}":
            return self.error(401, "Invalid API key")
        return None

    @staticmethod
    def _frame_problem(frame: object) -> str | None:
        if frame is None:
            return None
        if not isinstance(frame, dict):
            return "a frame must be an object"
        given = [k for k in ("url", "data", "generation_id") if k in frame]
        if len(given) != 1:
            return "a media reference needs exactly one of url, data, generation_id"
        if "data" in frame:
            if frame.get("media_type") not in ("image/png", "image/jpeg", "image/webp"):
                return "data needs media_type"
            try:
                base64.b64decode(frame["data"], validate=True)
            except (binascii.Error, ValueError):
                return "data is not base64"
        return None

    # -- Agents API

    @route("GET", r"/v1/generations")
    def list_generations(self, req: Request) -> Reply:
        if (denied := self._auth(req, self.agents_key)) is not None:
            return denied
        return Reply(200, {"generations": [], "count": 0, "has_more": False, "limit": 1, "offset": 0})

    @route("GET", r"/dream-machine/v1/generations")
    def legacy_list_generations(self, req: Request) -> Reply:
        if (denied := self._auth(req, self.legacy_key)) is not None:
            return denied
        return Reply(200, [])

    @route("POST", r"/v1/generations")
    def agents_create(self, req: Request) -> Reply:
        if (denied := self._auth(req, self.agents_key)) is not None:
            return denied
        body = req.json
        if not isinstance(body, dict) or body.get("type") != "video" or body.get("model") != "ray-3.2":
            return self.error(422, "type must be video with model ray-3.2")
        if not body.get("prompt"):
            return self.error(422, "prompt is required")
        if body.get("aspect_ratio", "16:9") not in AGENTS_RATIOS:
            return self.error(422, "aspect_ratio is invalid")
        video = body.get("video") or {}
        if video.get("duration", "5s") not in ("5s", "10s") or video.get("resolution", "720p") not in ("540p", "720p", "1080p"):
            return self.error(422, "video.duration or video.resolution is invalid")
        if video.get("loop") and video.get("duration") == "10s":
            return self.error(422, "loop is not allowed with 10s")
        for key in ("start_frame", "end_frame"):
            if problem := self._frame_problem(video.get(key)):
                return self.error(422, f"video.{key}: {problem}")
        task = self.new_task(body, sequence=self.AGENTS_SEQUENCE)
        task.data.update(legacy=False, clip=clip_for(prompt=body["prompt"], duration=video.get("duration", "5s"),
                                                     aspect_ratio=body.get("aspect_ratio", "16:9"),
                                                     resolution=video.get("resolution", "720p")))
        return Reply(201, self._agents_object(task, "queued"))

    def _agents_object(self, task, state: str) -> dict:
        obj = {"id": task.id, "created_at": "2026-11-21T10:00:00Z", "model": "ray-3.2", "type": "video",
               "state": state, "failure_code": None, "failure_reason": None, "output": []}
        if state == "failed":
            obj.update(failure_code="content_moderated", failure_reason="The request was blocked by moderation")
        if state == "completed":
            task.data.setdefault("url", self.output_url(clip=task.data["clip"]))
            obj["output"] = [{"type": "video", "url": task.data["url"]}]
        return obj

    @route("GET", r"/v1/generations/(?P<gen_id>[^/]+)")
    def agents_get(self, req: Request, gen_id: str) -> Reply:
        if (denied := self._auth(req, self.agents_key)) is not None:
            return denied
        task = self.tasks.get(gen_id)
        if task is None or task.data["legacy"]:
            return self.error(404, "Generation not found")
        state, _ = task.advance()
        if state == "completed" and task.outcome == "moderation":
            state = "failed"
        return Reply(200, self._agents_object(task, state))

    # -- Dream Machine API (legacy)

    @route("POST", r"/dream-machine/v1/generations/video")
    def legacy_create(self, req: Request) -> Reply:
        if (denied := self._auth(req, self.legacy_key)) is not None:
            return denied
        body = req.json
        if not isinstance(body, dict) or body.get("model") not in ("ray-2", "ray-flash-2", "ray-1-6"):
            return self.error(400, "model is invalid")
        if body.get("aspect_ratio", "16:9") not in LEGACY_RATIOS:
            return self.error(400, "aspect_ratio is invalid")
        if body.get("duration", "5s") not in ("5s", "9s") or body.get("resolution", "720p") not in ("540p", "720p", "1080p", "4k"):
            return self.error(400, "duration or resolution is invalid")
        for name, frame in (body.get("keyframes") or {}).items():
            if name not in ("frame0", "frame1") or frame.get("type") not in ("image", "generation"):
                return self.error(400, f"keyframes.{name} is invalid")
            if frame["type"] == "image" and not str(frame.get("url", "")).startswith(("http://", "https://")):
                return self.error(400, f"keyframes.{name}.url must be a public URL")
        task = self.new_task(body, sequence=self.LEGACY_SEQUENCE)
        task.data.update(legacy=True, clip=clip_for(prompt=body.get("prompt", ""), duration=body.get("duration", "5s"),
                                                    aspect_ratio=body.get("aspect_ratio", "16:9"),
                                                    resolution=body.get("resolution", "720p")))
        return Reply(201, self._legacy_object(task, "queued"))

    def _legacy_object(self, task, state: str) -> dict:
        obj = {"id": task.id, "generation_type": "video", "state": state, "failure_reason": None,
               "created_at": "2026-11-21T10:00:00Z", "model": task.payload.get("model"), "request": task.payload,
               "assets": {"video": None, "image": None, "progress_video": None}}
        if state == "failed":
            obj["failure_reason"] = "Prompt contains prohibited content and was blocked by moderation"
        if state == "completed":
            task.data.setdefault("url", self.output_url(clip=task.data["clip"]))
            obj["assets"]["video"] = task.data["url"]
        return obj

    @route("GET", r"/dream-machine/v1/generations/(?P<gen_id>[^/]+)")
    def legacy_get(self, req: Request, gen_id: str) -> Reply:
        if (denied := self._auth(req, self.legacy_key)) is not None:
            return denied
        task = self.tasks.get(gen_id)
        if task is None or not task.data["legacy"]:
            return self.error(404, "Generation not found")
        state, _ = task.advance()
        if state == "completed" and task.outcome == "moderation":
            state = "failed"
        return Reply(200, self._legacy_object(task, state))

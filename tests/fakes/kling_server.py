"""A fake Kling AI API: verifies the HS256 JWT (signature, iss, nbf, exp), validates text2video and
image2video bodies, answers in Kling's {"code", "message", "request_id", "data"} wrapper with its
business codes, walks submitted -> processing -> succeed | failed, and serves the video URL."""

from __future__ import annotations

import base64
import binascii
import time

import jwt

from tests.fakes.video_common import FakeVideoServer, Reply, Request, clip_for, route

MODELS = {"kling-v1", "kling-v1-6", "kling-v2-master", "kling-v2-1-master", "kling-v2-5-turbo", "kling-v2-6", "kling-v3"}
SOUND_MODELS = {"kling-v2-6", "kling-v3"}
STATUS_CODES = {400: 1201, 401: 1000, 403: 1103, 404: 1203, 429: 1302, 500: 5000, 503: 5001}


class KlingFake(FakeVideoServer):
    vendor = "kling"
    access_key = "ak-test-access"
    secret_key = "sk-test-secret-0123456789abcdef-0123456789"
    SEQUENCE = (("submitted", None), ("processing", None), ("processing", None), ("succeed", None))

    def __init__(self) -> None:
        super().__init__()
        self.tokens: list[dict] = []  # decoded claims of every accepted token

    def error_body(self, status: int, message: str, code: str = "") -> dict:
        return {"code": int(code) if code else STATUS_CODES.get(status, 5000), "message": message,
                "request_id": self.new_id()}

    def ok(self, data: dict) -> Reply:
        return Reply(200, {"code": 0, "message": "SUCCEED", "request_id": self.new_id(), "data": data})

    def _auth(self, req: Request) -> Reply | None:
        header = req.header("authorization")
        if not header:
            return self.error(401, "Authorization is empty", "1001")
        if not header.startswith("Bearer "):
            return self.error(401, "Authorization is invalid", "1002")
        try:
            claims = jwt.decode(header[7:], self.secret_key, algorithms=["HS256"],
                                options={"require": ["iss", "exp", "nbf"]})
        except jwt.ExpiredSignatureError:
            return self.error(401, "Token expired", "1004")
        except jwt.ImmatureSignatureError:
            return self.error(401, "Token not yet valid", "1003")
        except jwt.InvalidTokenError as exc:
            return self.error(401, f"Authorization is invalid: {exc}", "1002")
        if claims["iss"] != self.access_key:
            return self.error(401, "Authentication failed", "1000")
        if claims["exp"] - time.time() > 1800 + 60:
            return self.error(401, "Authorization is invalid: token lives too long", "1002")
        self.tokens.append(claims)
        return None

    def _task_data(self, task, state: str) -> dict:
        data = {"task_id": task.id, "task_status": state, "task_info": {},
                "created_at": int(task.created_at * 1000), "updated_at": int(time.time() * 1000)}
        if state == "failed":
            data["task_status_msg"] = "Failure to pass the risk control system"
        if state == "succeed":
            if "url" not in task.data:
                task.data["url"] = self.output_url(clip=task.data["clip"])
            data["task_result"] = {"videos": [{"id": self.new_id(), "url": task.data["url"],
                                               "duration": str(task.payload["duration"])}]}
            data["final_unit_deduction"] = "1"
        return data

    def _create(self, req: Request, kind: str) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        body = req.json
        if not isinstance(body, dict):
            return self.error(400, "Invalid request body", "1200")
        model = body.get("model_name", "kling-v1")
        if model not in MODELS:
            return self.error(404, f"model_name {model} not found", "1203")
        if kind == "text2video" and not body.get("prompt"):
            return self.error(400, "prompt is required", "1201")
        if len(body.get("prompt", "")) > 2500 or len(body.get("negative_prompt", "")) > 2500:
            return self.error(400, "prompt is too long", "1201")
        if body.get("mode", "std") not in ("std", "pro"):
            return self.error(400, "mode must be std or pro", "1201")
        if body.get("duration", "5") not in ("5", "10"):
            return self.error(400, "duration must be the string 5 or 10", "1201")
        if body.get("aspect_ratio", "16:9") not in ("16:9", "9:16", "1:1"):
            return self.error(400, "aspect_ratio is invalid", "1201")
        if "sound" in body and (model not in SOUND_MODELS or body["sound"] not in ("on", "off")):
            return self.error(400, f"sound is not supported by {model}", "1201")
        if kind == "image2video":
            for key in ("image", "image_tail"):
                if key not in body and key == "image":
                    return self.error(400, "image is required", "1201")
                value = body.get(key)
                if value is None or str(value).startswith("https://"):
                    continue
                if str(value).startswith("data:"):
                    return self.error(400, f"{key}: base64 must not carry a data: prefix", "1201")
                try:
                    base64.b64decode(value, validate=True)
                except (binascii.Error, ValueError):
                    return self.error(400, f"{key} is not valid base64", "1201")
        task = self.new_task(body, sequence=self.SEQUENCE)
        task.data["kind"] = kind
        # Kling's std mode renders 720p, pro 1080p.
        task.data["clip"] = clip_for(prompt=body.get("prompt", ""), duration=body.get("duration", "5"),
                                     aspect_ratio=body.get("aspect_ratio", "16:9"),
                                     resolution="1080p" if body.get("mode") == "pro" else "720p")
        return self.ok({"task_id": task.id, "task_status": "submitted", "task_info": {},
                        "created_at": int(task.created_at * 1000), "updated_at": int(task.created_at * 1000)})

    def new_id(self) -> str:
        # Kling task ids are long decimal strings.
        return str(int(time.time() * 1000)) + str(next(self._ids)).zfill(6)

    @route("GET", r"/v1/videos/(?P<kind>text2video|image2video)")
    def list_tasks(self, req: Request, kind: str) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        return Reply(200, {"code": 0, "message": "SUCCEED", "request_id": "list", "data": []})

    @route("POST", r"/v1/videos/(?P<kind>text2video|image2video)")
    def create(self, req: Request, kind: str) -> Reply:
        return self._create(req, kind)

    @route("GET", r"/v1/videos/(?P<kind>text2video|image2video)/(?P<task_id>[^/]+)")
    def get_task(self, req: Request, kind: str, task_id: str) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        task = self.tasks.get(task_id)
        if task is None or task.data["kind"] != kind:
            return self.error(404, "task not found", "1203")
        state, _ = task.advance()
        if state == "succeed" and task.outcome == "moderation":
            state = "failed"
        return self.ok(self._task_data(task, state))

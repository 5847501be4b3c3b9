"""A fake Runway developer API (api.dev.runwayml.com) speaking the documented protocol.

Checks the bearer key and `X-Runway-Version: 2024-11-06`, validates create bodies per model
(ratio, duration, promptImage forms, prompt length), serves ephemeral uploads through a presigned
multipart POST, walks PENDING -> THROTTLED -> RUNNING (progress) -> SUCCEEDED/FAILED, and cancels on DELETE.
"""

from __future__ import annotations

import email.parser
import email.policy

from tests.fakes.video_common import FakeVideoServer, Reply, Request, clip_for, route

API_VERSION = "2024-11-06"
GEN4_RATIOS = {"1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672"}
VEO_RATIOS = {"1280:720", "720:1280", "1080:1920", "1920:1080"}
I2V_MODELS = {"gen4.5", "gen4_turbo", "veo3.1", "veo3.1_fast", "veo3"}
T2V_MODELS = I2V_MODELS - {"gen4_turbo"}


def parse_multipart(req: Request) -> tuple[dict[str, str], dict[str, bytes]]:
    """Fields and files of a multipart/form-data body."""
    raw = b"Content-Type: " + req.header("content-type").encode() + b"\r\n\r\n" + req.body
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename():
            files[name] = payload
        else:
            fields[name] = payload.decode()
    return fields, files


class RunwayFake(FakeVideoServer):
    vendor = "runway"
    api_key = "rw-test-key"
    SEQUENCE = (("PENDING", None), ("THROTTLED", None), ("RUNNING", 0.25), ("RUNNING", 0.7), ("SUCCEEDED", 1.0))

    def __init__(self) -> None:
        super().__init__()
        self.uploads: dict[str, dict] = {}  # runwayUri -> {"filename", "data" (after the storage POST)}

    def error_body(self, status: int, message: str, code: str = "") -> dict:
        return {"error": message}

    def _auth(self, req: Request) -> Reply | None:
        if req.header("authorization") != f"Bearer {self.api_key}":
            return self.error(401, "Invalid API key")
        if req.header("x-runway-version") != API_VERSION:
            return self.error(400, "Missing or unsupported X-Runway-Version header")
        return None

    # -- uploads

    @route("GET", r"/v1/organization")
    def organization(self, req: Request) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        return Reply(200, {"creditBalance": 1000, "tier": {"maxMonthlyCreditSpend": 10000, "models": {}}, "usage": {"models": {}}})

    @route("POST", r"/v1/uploads")
    def create_upload(self, req: Request) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        body = req.json or {}
        if body.get("type") != "ephemeral" or not body.get("filename"):
            return self.error(400, "filename and type 'ephemeral' are required")
        upload_id = self.new_id()
        uri = f"runway://uploads/{upload_id}"
        self.uploads[uri] = {"filename": body["filename"], "data": None, "id": upload_id}
        return Reply(200, {
            "uploadUrl": f"{self.url}/_storage/uploads",
            "fields": {"key": f"uploads/{upload_id}", "policy": "eyJ4IjoxfQ==", "x-amz-signature": "abc123"},
            "runwayUri": uri,
        })

    @route("POST", r"/_storage/uploads")
    def storage_post(self, req: Request) -> Reply:
        if req.header("authorization"):
            return Reply(400, "<Error><Code>InvalidArgument</Code><Message>Unexpected Authorization</Message></Error>")
        fields, files = parse_multipart(req)
        key = fields.get("key", "")
        match = [u for u in self.uploads.values() if f"uploads/{u['id']}" == key]
        if not match or fields.get("x-amz-signature") != "abc123" or "file" not in files:
            return Reply(403, "<Error><Code>AccessDenied</Code></Error>")
        match[0]["data"] = files["file"]
        return Reply(204, None)

    # -- tasks

    def _check_image(self, image: object, model: str) -> str | None:
        items = image if isinstance(image, list) else [{"uri": image, "position": "first"}]
        positions = []
        for item in items:
            if not isinstance(item, dict):
                return "promptImage items must be objects"
            uri = str(item.get("uri", ""))
            positions.append(item.get("position"))
            if uri.startswith("runway://"):
                if uri not in self.uploads or self.uploads[uri]["data"] is None:
                    return "Unknown or incomplete upload"
            elif uri.startswith("data:image/"):
                if len(uri) > 5 * 1024 * 1024 * 4 // 3 + 100:
                    return "Data URI too large"
            elif not uri.startswith("https://"):
                return "promptImage must be an HTTPS URL, a runway:// URI or a data URI"
        if "last" in positions and not model.startswith("veo3.1"):
            return f"{model} only accepts a first frame"
        if positions == ["last"]:
            return "A last frame needs a first frame"
        return None

    def _create(self, req: Request, *, image: bool) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        body = req.json
        if not isinstance(body, dict):
            return self.error(400, "Body must be JSON")
        model = body.get("model")
        allowed = I2V_MODELS if image else T2V_MODELS
        if model not in allowed:
            return self.error(400, f"Invalid model {model!r}")
        text = body.get("promptText")
        if text is not None and len(str(text)) > 1000:
            return self.error(400, "promptText is too long")
        if model == "gen4.5" and not text:
            return self.error(400, "promptText is required")
        ratios = VEO_RATIOS if model.startswith("veo") else ({"1280:720", "720:1280"} if (model == "gen4.5" and not image) else GEN4_RATIOS)
        if body.get("ratio") not in ratios:
            return self.error(400, f"Invalid ratio {body.get('ratio')!r} for {model}")
        duration = body.get("duration")
        durations = {8} if model == "veo3" else {4, 6, 8} if model.startswith("veo") else set(range(2, 11))
        if not isinstance(duration, int) or duration not in durations:
            return self.error(400, f"Invalid duration {duration!r} for {model}")
        if image:
            if "promptImage" not in body:
                return self.error(400, "promptImage is required")
            if (problem := self._check_image(body["promptImage"], model)) is not None:
                return self.error(400, problem)
        if "seed" in body and not isinstance(body["seed"], int):
            return self.error(400, "seed must be an integer")
        task = self.new_task(body, sequence=self.SEQUENCE)
        # Runway's ratio is the output's pixel size.
        task.data["clip"] = clip_for(prompt=str(text or ""), duration=duration, size=body["ratio"])
        return Reply(200, {"id": task.id})

    @route("POST", r"/v1/image_to_video")
    def image_to_video(self, req: Request) -> Reply:
        return self._create(req, image=True)

    @route("POST", r"/v1/text_to_video")
    def text_to_video(self, req: Request) -> Reply:
        return self._create(req, image=False)

    @route("GET", r"/v1/tasks/(?P<task_id>[^/]+)")
    def get_task(self, req: Request, task_id: str) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        task = self.tasks.get(task_id)
        if task is None or task.data.get("deleted"):
            return self.error(404, "Task not found")
        base = {"id": task.id, "createdAt": "2026-11-21T10:00:00.000Z"}
        if task.canceled:
            return Reply(200, {**base, "status": "CANCELLED"})
        state, progress = task.advance()
        if state == "SUCCEEDED" and task.outcome == "moderation":
            return Reply(200, {**base, "status": "FAILED", "failure": "Output rejected by content moderation",
                               "failureCode": "SAFETY.OUTPUT.VIDEO"})
        if state == "SUCCEEDED":
            if "output" not in task.data:
                task.data["output"] = [self.output_url(clip=task.data["clip"])]
            return Reply(200, {**base, "status": state, "output": task.data["output"]})
        if state == "RUNNING":
            return Reply(200, {**base, "status": state, "progress": progress})
        return Reply(200, {**base, "status": state})

    @route("DELETE", r"/v1/tasks/(?P<task_id>[^/]+)")
    def delete_task(self, req: Request, task_id: str) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        task = self.tasks.get(task_id)
        if task is None or task.data.get("deleted"):
            return self.error(404, "Task not found")
        if task.finished:
            task.data["deleted"] = True
        else:
            task.canceled = True
        return Reply(204, None)

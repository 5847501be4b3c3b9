"""A fake Replicate API (api.replicate.com) speaking the documented protocol.

Checks the Bearer token, validates inputs per model like their schemas (422 with an RFC 7807 body
and `invalid_fields`), creates predictions on `/v1/models/{owner}/{name}/predictions` and on
`/v1/predictions` (pinned version), honours `Prefer: wait=N` (a model flagged fast finishes inside
the wait), accepts file uploads on `/v1/files`, walks starting -> processing (tqdm progress in
`logs`) -> succeeded/failed, cancels, lists with a `next` cursor, serves the output for one hour,
and signs webhook deliveries with Standard Webhooks.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.parser
import email.policy
import json
import secrets
import time
from typing import Any

from generation.providers.webhooks import standard_webhook_headers
from tests.fakes.video_common import FakeTask, FakeVideoServer, Reply, Request, clip_for, route


def _image_ok(value: Any) -> bool:
    return isinstance(value, str) and (value.startswith(("https://", "http://")) or
                                       (value.startswith("data:image/") and ";base64," in value))


# model -> (version id, {field: rule}, required fields); rules: "text", "int", "bool", "image", "images", or a set
MODELS: dict[str, tuple[str, dict[str, Any], set[str]]] = {
    "google/veo-3.1": ("a" * 64, {
        "prompt": "text", "negative_prompt": "text", "seed": "int", "generate_audio": "bool",
        "aspect_ratio": {"16:9", "9:16"}, "duration": {4, 6, 8}, "resolution": {"720p", "1080p"},
        "image": "image", "last_frame": "image", "reference_images": "images",
    }, {"prompt"}),
    "kwaivgi/kling-v2.1": ("b" * 64, {
        "prompt": "text", "negative_prompt": "text", "start_image": "image", "end_image": "image",
        "mode": {"standard", "pro"}, "duration": {5, 10},
    }, {"prompt", "start_image"}),
    "kwaivgi/kling-v2.5-turbo-pro": ("c" * 64, {
        "prompt": "text", "negative_prompt": "text", "start_image": "image",
        "aspect_ratio": {"16:9", "9:16", "1:1"}, "duration": {5, 10},
    }, {"prompt"}),
}


def _rule_ok(rule: Any, value: Any) -> bool:
    if rule == "text":
        return isinstance(value, str)
    if rule == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if rule == "bool":
        return isinstance(value, bool)
    if rule == "image":
        return _image_ok(value)
    if rule == "images":
        return isinstance(value, list) and 1 <= len(value) <= 3 and all(_image_ok(v) for v in value)
    return value in rule and type(value) is type(next(iter(rule)))


def _iso(stamp: float | None) -> str | None:
    if stamp is None:
        return None
    return dt.datetime.fromtimestamp(stamp, dt.timezone.utc).isoformat().replace("+00:00", "Z")


class ReplicateFake(FakeVideoServer):
    vendor = "replicate"
    api_key = "r8_fakeTokenForTests0123456789"
    webhook_secret = "whsec_" + base64.b64encode(b"replicate-fake-webhook-key-32byt").decode()
    expired_status = 404  # deleted after one hour (status of replicate.delivery for a gone file: unconfirmed)
    SEQUENCE = (("starting", None), ("starting", None), ("processing", 0.3), ("processing", 0.8), ("succeeded", 1.0))
    page_size = 2

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, bytes] = {}
        self.fast_models: set[str] = set()  # models that finish inside a Prefer: wait window

    def error_body(self, status: int, message: str, code: str = "") -> Any:
        titles = {401: "Unauthenticated", 402: "Insufficient credit", 404: "Not found", 422: "Input validation failed",
                  429: "Too many requests", 500: "Internal server error"}
        return {"type": "about:blank", "title": titles.get(status, "Error"), "status": status, "detail": message}

    def _auth(self, req: Request) -> Reply | None:
        if req.header("authorization") != f"Bearer {self.api_key}":
            return self.error(401, "You did not pass a valid authentication token")
        return None

    # -- predictions

    def _validate(self, model: str, body: Any) -> Reply | None:
        _, schema, required = MODELS[model]
        if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
            return self.error(422, "- input: is required")
        problems = []
        for name, value in body["input"].items():
            rule = schema.get(name)
            if rule is None:
                problems.append({"field": f"input.{name}", "message": "Additional property is not allowed"})
            elif not _rule_ok(rule, value):
                problems.append({"field": f"input.{name}", "message": f"invalid value {value!r}"})
        for name in required - set(body["input"]):
            problems.append({"field": f"input.{name}", "message": f"{name} is required"})
        if problems:
            reply = self.error(422, "\n".join(f"- {p['field']}: {p['message']}" for p in problems))
            reply.body["invalid_fields"] = [{"type": "invalid", **p} for p in problems]
            return reply
        return None

    def _create(self, req: Request, model: str) -> Reply:
        if (invalid := self._validate(model, req.json)) is not None:
            return invalid
        body = req.json
        task = self.new_task(body["input"], sequence=self.SEQUENCE)
        given = body["input"]
        # Each model's default when a field is left out (Veo 3.1: 8 s; Kling: 5 s; pro mode is 1080p).
        task.data["clip"] = clip_for(
            prompt=given.get("prompt", ""), duration=given.get("duration", 8 if "veo" in model else 5),
            aspect_ratio=given.get("aspect_ratio", "16:9"),
            resolution=given.get("resolution", "1080p" if given.get("mode") == "pro" else "720p"))
        task.data.update(model=model, version=MODELS[model][0], webhook=body.get("webhook"),
                         events=body.get("webhook_events_filter"), prefer=req.header("prefer"),
                         cancel_after=req.header("cancel-after"))
        wait = req.header("prefer")
        if wait.startswith("wait") and model in self.fast_models and task.outcome == "success":
            task.polls = len(task.sequence)  # finished inside the wait window
            return Reply(201, self._prediction(task, advance=False))
        return Reply(201, self._prediction(task, advance=False), {"Location": f"{self.url}/v1/predictions/{task.id}"})

    @route("GET", r"/v1/account")
    def account(self, req: Request) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        return Reply(200, {"type": "organization", "username": "studio", "name": "Studio", "github_url": None})

    @route("POST", r"/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)/predictions")
    def create_official(self, req: Request, owner: str, name: str) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        model = f"{owner}/{name}"
        if model not in MODELS:
            return self.error(404, f"Model {model} not found")
        return self._create(req, model)

    @route("POST", r"/v1/predictions")
    def create_version(self, req: Request) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        version = (req.json or {}).get("version", "")
        for model, (vid, _, _) in MODELS.items():
            if version == vid or version.endswith(":" + vid):
                return self._create(req, model)
        return self.error(422, "- version: Invalid version or not permitted")

    def _prediction(self, task: FakeTask, *, advance: bool) -> dict[str, Any]:
        if task.canceled:
            status, progress = "canceled", None
        elif advance:
            status, progress = task.advance()
        else:
            steps = task.sequence if task.outcome != "never" else task.sequence[:-1]
            status, progress = steps[min(max(task.polls - 1, 0), len(steps) - 1)] if task.polls else task.sequence[0]
        logs = ""
        if progress is not None and status == "processing":
            done = int(progress * 10)
            logs = f"Loading weights\n{int(progress * 100):3d}%|{'#' * done}{' ' * (10 - done)}| {int(progress * 40)}/40"
        output, error = None, None
        if status == "succeeded" and task.outcome == "moderation":
            status, error = "failed", "The input or output was flagged as sensitive. Please try again with different inputs. (E005)"
        elif status == "succeeded":
            if "output" not in task.data:
                task.data["output"] = self.output_url(clip=task.data["clip"])
                task.data["completed_at"] = time.time()
            output = task.data["output"]
        base = f"{self.url}/v1/predictions/{task.id}"
        return {
            "id": task.id, "model": task.data["model"], "version": task.data["version"], "input": task.payload,
            "logs": logs, "output": output, "error": error, "status": status, "data_removed": False,
            "created_at": _iso(task.created_at), "started_at": _iso(task.created_at + 1) if status != "starting" else None,
            "completed_at": _iso(task.data.get("completed_at")) if status in ("succeeded", "failed", "canceled") else None,
            "urls": {"get": base, "cancel": f"{base}/cancel", "stream": f"{self.url}/stream/{task.id}",
                     "web": f"https://replicate.com/p/{task.id}"},
            "metrics": {"predict_time": 41.2} if status == "succeeded" else {},
        }

    @route("GET", r"/v1/predictions/(?P<pid>[^/]+)")
    def get(self, req: Request, pid: str) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        task = self.tasks.get(pid)
        if task is None:
            return self.error(404, "Prediction not found")
        return Reply(200, self._prediction(task, advance=True))

    @route("POST", r"/v1/predictions/(?P<pid>[^/]+)/cancel")
    def cancel(self, req: Request, pid: str) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        task = self.tasks.get(pid)
        if task is None:
            return self.error(404, "Prediction not found")
        if not task.finished:
            task.canceled = True
            task.data["completed_at"] = time.time()
        return Reply(200, self._prediction(task, advance=False))

    @route("GET", r"/v1/predictions")
    def list_predictions(self, req: Request) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        ordered = sorted(self.tasks.values(), key=lambda t: t.created_at, reverse=True)
        start = int(req.query.get("cursor", "0") or 0)
        page = ordered[start:start + self.page_size]
        more = start + self.page_size < len(ordered)
        return Reply(200, {
            "previous": None,
            "next": f"{self.url}/v1/predictions?cursor={start + self.page_size}" if more else None,
            "results": [self._prediction(t, advance=False) for t in page],
        })

    # -- files

    @route("POST", r"/v1/files")
    def upload(self, req: Request) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        raw = b"Content-Type: " + req.header("content-type").encode() + b"\r\n\r\n" + req.body
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
        parts = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()} if message.is_multipart() else {}
        if "content" not in parts:
            return self.error(422, "- content: is required (multipart file)")
        data = parts["content"].get_payload(decode=True) or b""
        file_id = secrets.token_hex(8)
        self.files[file_id] = data
        return Reply(201, {"id": file_id, "name": parts["content"].get_filename(), "size": len(data),
                           "content_type": "application/octet-stream",
                           "urls": {"get": f"{self.url}/v1/files/{file_id}"}})

    # -- webhooks

    def webhook_for(self, pid: str, *, valid: bool = True, age_seconds: float = 0, secret: str | None = None) -> tuple[dict[str, str], bytes]:
        """A signed delivery of the prediction's current state, as Replicate POSTs it."""
        task = self.tasks[pid]
        task.polls = max(task.polls, len(task.sequence))
        body = json.dumps(self._prediction(task, advance=False)).encode()
        key = secret or (self.webhook_secret if valid else "whsec_" + base64.b64encode(b"not-the-right-key-at-all-000000").decode())
        headers = standard_webhook_headers(secret=key, body=body, msg_id=f"msg_{secrets.token_hex(6)}",
                                           timestamp=int(time.time() - age_seconds))
        return {**headers, "Content-Type": "application/json"}, body

"""A fake fal.ai queue (queue.fal.run) speaking the documented protocol.

Checks `Authorization: Key <key>`, validates inputs per endpoint like the model schemas (422 with
`{"detail": [{"loc", "msg", "type"}]}`), answers submit with request/status/response/cancel URLs,
walks IN_QUEUE (queue_position) -> IN_PROGRESS (tqdm-style progress lines in `logs`) ->
COMPLETED (with `error`/`error_type` on failure), serves the result (`{"video": {"url", ...}}`),
cancels on PUT, keeps status/result/cancel on the *app root* (a subpath answers 404, as fal does),
publishes an Ed25519 JWKS and signs webhook deliveries like fal.
"""

from __future__ import annotations

import json
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from generation.providers.webhooks import ed25519_jwk, fal_webhook_headers
from tests.fakes.video_common import FakeTask, FakeVideoServer, Reply, Request, clip_for, route

# endpoint id -> {field: (required, allowed values or a checker name)}
ENDPOINTS: dict[str, dict[str, tuple[bool, Any]]] = {
    "fal-ai/pika/v2.2/text-to-video": {
        "prompt": (True, "text"), "negative_prompt": (False, "text"), "seed": (False, "int"),
        "duration": (False, {5, 10}), "resolution": (False, {"720p", "1080p"}),
        "aspect_ratio": (False, {"16:9", "9:16", "1:1", "4:5", "5:4", "3:2", "2:3"}),
    },
    "fal-ai/pika/v2.2/image-to-video": {
        "prompt": (True, "text"), "image_url": (True, "image"), "negative_prompt": (False, "text"),
        "seed": (False, "int"), "duration": (False, {5, 10}), "resolution": (False, {"720p", "1080p"}),
    },
    "fal-ai/pika/v2.5/text-to-video": {
        "prompt": (True, "text"), "negative_prompt": (False, "text"), "seed": (False, "int"),
        "duration": (False, {5, 10}), "resolution": (False, {"480p", "720p", "1080p"}),
    },
    "fal-ai/kling-video/v2.1/standard/image-to-video": {
        "prompt": (True, "text"), "image_url": (True, "image"), "negative_prompt": (False, "text"),
        "duration": (False, {"5", "10"}), "cfg_scale": (False, "float"),
    },
    "fal-ai/kling-video/v2.5-turbo/standard/image-to-video": {
        "prompt": (True, "text"), "image_url": (True, "image"), "negative_prompt": (False, "text"),
        "duration": (False, {"5", "10"}), "cfg_scale": (False, "float"),
    },
}


def _valid_image(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if value.startswith("data:image/") and ";base64," in value:
        return True
    return value.startswith(("https://", "http://"))


def _tqdm(progress: float) -> str:
    done = int(progress * 10)
    return f"{int(progress * 100):3d}%|{'#' * done}{' ' * (10 - done)}| {int(progress * 50)}/50 [00:0{done}<00:10]"


class FalFake(FakeVideoServer):
    vendor = "fal"
    api_key = "fal-test-id:fal-test-secret"
    user_id = "user-fake-1"
    # Two queue polls, two progress polls, then done.
    SEQUENCE = (("IN_QUEUE", None), ("IN_QUEUE", None), ("IN_PROGRESS", 0.3), ("IN_PROGRESS", 0.7), ("COMPLETED", 1.0))

    def __init__(self) -> None:
        super().__init__()
        self.signing_key = Ed25519PrivateKey.generate()

    def error_body(self, status: int, message: str, code: str = "") -> Any:
        if status == 422:
            return {"detail": [{"loc": ["body"], "msg": message, "type": code or "value_error"}]}
        return {"detail": message}

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/.well-known/jwks.json"

    # -- JWKS (served without auth, like fal's)

    @route("GET", r"/\.well-known/jwks\.json")
    def jwks(self, req: Request) -> Reply:
        other = {"kty": "RSA", "kid": "legacy", "n": "sXch", "e": "AQAB"}  # non-Ed25519 keys are skipped
        return Reply(200, {"keys": [other, ed25519_jwk(self.signing_key.public_key(), kid="fake-1")]})

    # -- queue

    def _auth(self, req: Request) -> Reply | None:
        if req.header("authorization") != f"Key {self.api_key}":
            return self.error(401, "Invalid key: authentication failed")
        return None

    def _validate(self, endpoint: str, body: Any) -> Reply | None:
        schema = ENDPOINTS[endpoint]
        if not isinstance(body, dict):
            return Reply(422, {"detail": [{"loc": ["body"], "msg": "body must be a JSON object", "type": "type_error"}]})
        problems = []
        for name, value in body.items():
            if name not in schema:
                continue  # fal models ignore unknown fields
            _, rule = schema[name]
            ok = (
                (rule == "text" and isinstance(value, str))
                or (rule == "int" and isinstance(value, int) and not isinstance(value, bool))
                or (rule == "float" and isinstance(value, (int, float)))
                or (rule == "image" and _valid_image(value))
                or (isinstance(rule, set) and value in rule and type(value) is type(next(iter(rule))))
            )
            if not ok:
                problems.append({"loc": ["body", name], "msg": f"invalid value {value!r}", "type": "value_error"})
        for name, (required, _) in schema.items():
            if required and not body.get(name):
                problems.append({"loc": ["body", name], "msg": "field required", "type": "value_error.missing"})
        return Reply(422, {"detail": problems}) if problems else None

    @route("POST", r"/(?P<endpoint>[a-z0-9-]+/[a-z0-9.-]+(?:/[a-z0-9.-]+)*)")
    def submit(self, req: Request, endpoint: str) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        if endpoint not in ENDPOINTS:
            return self.error(404, f"Application '{endpoint}' not found")
        if (invalid := self._validate(endpoint, req.json)) is not None:
            return invalid
        task = self.new_task(req.json, sequence=self.SEQUENCE)
        app = "/".join(endpoint.split("/")[:2])
        task.data.update(app=app, endpoint=endpoint, webhook=req.query.get("fal_webhook"), clip=clip_for(
            prompt=req.json.get("prompt", ""), duration=req.json.get("duration", 5),
            aspect_ratio=req.json.get("aspect_ratio", "16:9"), resolution=req.json.get("resolution", "720p")))
        base = f"{self.url}/{app}/requests/{task.id}"
        return Reply(200, {
            "request_id": task.id, "gateway_request_id": task.id, "response_url": base,
            "status_url": f"{base}/status", "cancel_url": f"{base}/cancel", "queue_position": 2,
        }, {"x-fal-request-id": task.id})

    def _task(self, app: str, request_id: str) -> FakeTask | None:
        task = self.tasks.get(request_id)
        return task if task is not None and task.data.get("app") == app else None

    def _error_fields(self, task: FakeTask) -> tuple[str, str] | None:
        if task.canceled:
            return "Request was cancelled by the user.", "request_cancelled"
        if task.outcome == "moderation":
            return "The content could not be processed because it was flagged by a content checker.", "content_policy_violation"
        return None

    @route("GET", r"/(?P<app>[^/]+/[^/]+)/requests/(?P<request_id>[^/]+)/status")
    def status(self, req: Request, app: str, request_id: str) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        task = self._task(app, request_id)
        if task is None:
            return self.error(404, "Request not found")
        if task.canceled:
            state, progress = "COMPLETED", None
        else:
            state, progress = task.advance()
        body: dict[str, Any] = {"status": state, "request_id": task.id,
                                "response_url": f"{self.url}/{app}/requests/{task.id}"}
        logs = [{"message": "Loading model", "level": "INFO", "timestamp": "2026-11-21T06:00:00Z"}]
        if state == "IN_QUEUE":
            body["queue_position"] = max(0, 2 - task.polls)
        elif state == "IN_PROGRESS":
            logs.append({"message": _tqdm(progress or 0.0), "level": "INFO", "timestamp": "2026-11-21T06:00:05Z"})
            body["logs"] = logs if req.query.get("logs") == "1" else None
        else:
            body["logs"] = logs if req.query.get("logs") == "1" else None
            body["metrics"] = {"inference_time": 12.5}
            failure = self._error_fields(task)
            body["error"], body["error_type"] = failure if failure else (None, None)
        return Reply(200, body)

    def _output(self, task: FakeTask) -> str:
        if "output" not in task.data:
            task.data["output"] = self.output_url(clip=task.data["clip"])
        return task.data["output"]

    @route("GET", r"/(?P<app>[^/]+/[^/]+)/requests/(?P<request_id>[^/]+)")
    def result(self, req: Request, app: str, request_id: str) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        task = self._task(app, request_id)
        if task is None:
            return self.error(404, "Request not found")
        failure = self._error_fields(task)
        if failure:
            message, kind = failure
            return Reply(422 if kind != "request_cancelled" else 400,
                         {"detail": [{"loc": ["body"], "msg": message, "type": kind}]}, {"x-fal-error-type": kind})
        if not task.finished:
            return self.error(400, "Request is still in progress")
        return Reply(200, {"video": {"url": self._output(task), "content_type": "video/mp4", "file_name": "output.mp4",
                                     "file_size": 20000}, "seed": 42})

    @route("PUT", r"/(?P<app>[^/]+/[^/]+)/requests/(?P<request_id>[^/]+)/cancel")
    def cancel(self, req: Request, app: str, request_id: str) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        task = self._task(app, request_id)
        if task is None:
            return Reply(404, {"status": "NOT_FOUND"})
        if task.finished:
            return Reply(400, {"status": "ALREADY_COMPLETED"})
        task.canceled = True
        return Reply(202, {"status": "CANCELLATION_REQUESTED"})

    # -- webhooks

    def webhook_for(self, request_id: str, *, valid: bool = True, age_seconds: float = 0) -> tuple[dict[str, str], bytes]:
        """A signed delivery for a request, as fal POSTs it when the request finishes."""
        task = self.tasks[request_id]
        failure = self._error_fields(task)
        if failure:
            body_data: dict[str, Any] = {"request_id": task.id, "gateway_request_id": task.id, "status": "ERROR",
                                         "error": "Invalid status code: 422",
                                         "payload": {"detail": [{"loc": ["body"], "msg": failure[0], "type": failure[1]}]}}
        else:
            body_data = {"request_id": task.id, "gateway_request_id": task.id, "status": "OK",
                         "payload": {"video": {"url": self._output(task), "content_type": "video/mp4"}, "seed": 42}}
        body = json.dumps(body_data).encode()
        key = self.signing_key if valid else Ed25519PrivateKey.generate()
        headers = fal_webhook_headers(private_key=key, request_id=task.id, user_id=self.user_id, body=body,
                                      timestamp=int(time.time() - age_seconds))
        return {**headers, "Content-Type": "application/json"}, body

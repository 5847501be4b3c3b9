"""A fake Gemini API serving Veo long-running operations (generativelanguage.googleapis.com/v1beta).

Checks `x-goog-api-key` (a wrong key answers 400 API_KEY_INVALID, as Google does), validates the
predictLongRunning body (inline base64 images, aspect ratio, duration, resolution, no Vertex-only
fields), walks `done: false` polls to `done: true`, and serves the video at
`/v1beta/files/<id>:download?alt=media` only with the key; an expired file answers 404.
"""

from __future__ import annotations

import base64
import binascii
import time

from tests.fakes.video_common import FakeVideoServer, Reply, Request, clip_for, clip_mp4, route

MODELS = {
    "veo-3.1-generate-preview": {4, 6, 8},
    "veo-3.1-fast-generate-preview": {4, 6, 8},
    "veo-3.1-lite-generate-preview": {4, 6, 8},
    "veo-3.0-generate-001": {8},
    "veo-3.0-fast-generate-001": {8},
}
ALLOWED_PARAMETERS = {"aspectRatio", "durationSeconds", "resolution", "negativePrompt", "personGeneration",
                      "sampleCount", "enhancePrompt"}
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


class VeoFake(FakeVideoServer):
    vendor = "veo"
    api_key = "gemini-test-key"
    expired_status = 404
    SEQUENCE = (("running", None), ("running", None), ("done", None))

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, dict] = {}

    def error_body(self, status: int, message: str, code: str = "") -> dict:
        return {"error": {"code": status, "message": message, "status": STATUS_NAMES.get(status, "UNKNOWN")}}

    def _auth(self, req: Request) -> Reply | None:
        key = req.header("x-goog-api-key") or req.query.get("key", "")
        if not key:
            return self.error(403, "Method doesn't allow unregistered callers. Please use an API key.")
        if key != self.api_key:
            body = self.error_body(400, "API key not valid. Please pass a valid API key.")
            body["error"]["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]
            return Reply(400, body)
        return None

    @staticmethod
    def _image_problem(image: object) -> str | None:
        if not isinstance(image, dict) or set(image) != {"bytesBase64Encoded", "mimeType"}:
            return "image must have exactly bytesBase64Encoded and mimeType"
        if image["mimeType"] not in ("image/png", "image/jpeg", "image/webp"):
            return f"unsupported mimeType {image['mimeType']}"
        try:
            base64.b64decode(image["bytesBase64Encoded"], validate=True)
        except (binascii.Error, ValueError):
            return "bytesBase64Encoded is not base64"
        return None

    @route("GET", r"/v1beta/models")
    def list_models(self, req: Request) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        return Reply(200, {"models": [{"name": "models/veo-3.1-generate-preview"}], "nextPageToken": ""})

    @route("POST", r"/v1beta/models/(?P<model>[^/:]+):predictLongRunning")
    def create(self, req: Request, model: str) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        if model not in MODELS:
            return self.error(404, f"models/{model} is not found for API version v1beta")
        body = req.json
        if not isinstance(body, dict) or not isinstance(body.get("instances"), list) or len(body["instances"]) != 1:
            return self.error(400, "instances must hold one instance")
        instance, parameters = body["instances"][0], body.get("parameters") or {}
        if not isinstance(instance.get("prompt"), str):
            return self.error(400, "prompt is required")
        for key in ("image", "lastFrame"):
            if key in instance and (problem := self._image_problem(instance[key])):
                return self.error(400, f"{key}: {problem}")
        refs = instance.get("referenceImages") or []
        if len(refs) > 3 or any(self._image_problem(r.get("image")) or r.get("referenceType") not in ("ASSET", "STYLE") for r in refs):
            return self.error(400, "referenceImages: at most 3 inline images with referenceType ASSET or STYLE")
        if "lastFrame" in instance and "image" not in instance:
            return self.error(400, "lastFrame needs image")
        unknown = set(parameters) - ALLOWED_PARAMETERS
        if unknown:
            return self.error(400, f"{sorted(unknown)[0]} parameter is not supported in Gemini API.")
        if parameters.get("aspectRatio", "16:9") not in ("16:9", "9:16"):
            return self.error(400, "aspectRatio must be 16:9 or 9:16")
        duration = parameters.get("durationSeconds", 8)
        if duration not in MODELS[model]:
            return self.error(400, f"durationSeconds {duration} is out of bounds for {model}")
        resolution = parameters.get("resolution", "720p")
        if resolution not in ("720p", "1080p") or (resolution == "1080p" and duration != 8):
            return self.error(400, f"resolution {resolution} is not supported with durationSeconds {duration}")
        task = self.new_task(body, sequence=self.SEQUENCE)
        task.data["clip"] = clip_for(prompt=instance["prompt"], duration=duration,
                                     aspect_ratio=parameters.get("aspectRatio", "16:9"), resolution=resolution)
        name = f"models/{model}/operations/{task.id}"
        return Reply(200, {"name": name})

    @route("GET", r"/v1beta/models/(?P<model>[^/:]+)/operations/(?P<op>[^/:]+)")
    def get_operation(self, req: Request, model: str, op: str) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        task = self.tasks.get(op)
        if task is None:
            return self.error(404, "Operation not found")
        name = f"models/{model}/operations/{op}"
        state, _ = task.advance()
        if state != "done":
            return Reply(200, {"name": name, "metadata": {"@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningMetadata"}})
        if task.outcome == "moderation":
            response = {"@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
                        "generateVideoResponse": {"raiMediaFilteredCount": 1,
                                                  "raiMediaFilteredReasons": ["The prompt could not be submitted: it may violate our policies."]}}
            return Reply(200, {"name": name, "done": True, "response": response})
        if "file" not in task.data:
            file_id = self.new_id().replace("-", "")[:12]
            expires = time.time() - 1 if self.switches.expire_outputs else time.time() + 2 * 86400
            self.files[file_id] = {"expires": expires, "clip": task.data["clip"]}
            task.data["file"] = file_id
        uri = f"{self.url}/v1beta/files/{task.data['file']}:download?alt=media"
        response = {"@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
                    "generateVideoResponse": {"generatedSamples": [{"video": {"uri": uri}}]}}
        return Reply(200, {"name": name, "done": True, "response": response})

    @route("GET", r"/v1beta/files/(?P<file_id>[^/:]+):download")
    def download(self, req: Request, file_id: str) -> Reply:
        if (denied := self._auth(req)) is not None:
            return denied
        file = self.files.get(file_id)
        if file is None or file["expires"] < time.time():
            return self.error(404, f"File {file_id} does not exist.")
        return Reply(200, clip_mp4(file["clip"]), {"Content-Type": "video/mp4"})

"""Replicate predictions API: Veo 3.1, Kling and other hosted video models behind one adapter.

Protocol (reference/apis/replicate.md, from replicate-python and replicate.com docs): create with
`POST /v1/models/{owner}/{name}/predictions` (official models) or `POST /v1/predictions` with a
pinned `version`; poll `GET /v1/predictions/{id}`; cancel `POST /v1/predictions/{id}/cancel`;
list `GET /v1/predictions`; upload an input file `POST /v1/files`. Bearer token auth.
States: starting, processing, succeeded, failed, canceled, aborted (a `Cancel-After` deadline hit
before start). Outputs (and inputs) are deleted one hour after completion: download at once.

Which Replicate model and which input fields a catalogue model uses is data: the `route` block in
generation/catalog/replicate.yaml (see generation.providers.fal.map_inputs for its format).

Local images go as a data URI up to REPLICATE_DATA_URI_MAX bytes (256 KB, Replicate's advice),
larger ones are uploaded through the files API and passed by URL; `request.image_url` wins.

`REPLICATE_PREFER_WAIT` (seconds, 1-60; default off) sends `Prefer: wait=N`: Replicate holds the
create call up to N s and, if the model finished, the answer already carries the output. Video
models rarely finish that fast, so the default keeps submit non-blocking.

Confirmed (replicate.com docs): sync mode via `Prefer: wait` / `Prefer: wait=N`, default 60 s, an
unfinished prediction comes back starting/processing; endpoints and Bearer auth; Standard
Webhooks signing. Unconfirmed: per-model prices (none first-party), the exact current input
schema of each model version (versions change), the 2026 retirement of openai/sora-2-pro on
Replicate (assumed from OpenAI's shutdown), the status code of an expired output URL.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from typing import Any, Mapping

import httpx

from generation.providers.base import (
    AUDIO,
    CANCEL,
    CANCELED,
    FAILED,
    FIRST_LAST_FRAME,
    IMAGE_TO_VIDEO,
    LIST_JOBS,
    QUEUED,
    REFERENCE_IMAGES,
    RUNNING,
    SUCCEEDED,
    TEXT_TO_VIDEO,
    WEBHOOKS,
    ModelSpec,
    PollResult,
    SubmitResult,
    VideoProvider,
    VideoRequest,
    WebhookEvent,
)
from generation.providers.fal import catalogue_routes, engine_fields, image_reference, map_inputs, percent_from_logs
from generation.providers.webhooks import header, standard_webhook_payload
from mediastudio.lib.http import HttpClient, RetryPolicy, parse_retry_after
from mediastudio.lib.providers import ProviderError

DEFAULT_BASE_URL = "https://api.replicate.com"
OUTPUT_LIFETIME = dt.timedelta(hours=1)
DATA_URI_MAX = 256 * 1024

STATES = {
    "starting": QUEUED,
    "processing": RUNNING,
    "succeeded": SUCCEEDED,
    "failed": FAILED,
    "canceled": CANCELED,
    "aborted": FAILED,
}

_MODERATION = re.compile(r"nsfw|sensitive|flagged|safety|content[ _-]?policy|moderat|E005", re.I)
_RESETS_IN = re.compile(r"resets in ~?(\d+)\s*s", re.I)


def _parse_time(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


class ReplicateProvider(VideoProvider):
    identifier = "replicate"
    verbose_name = "Replicate (Veo 3.1, Kling)"
    capabilities = frozenset(
        {TEXT_TO_VIDEO, IMAGE_TO_VIDEO, FIRST_LAST_FRAME, REFERENCE_IMAGES, AUDIO, WEBHOOKS, CANCEL, LIST_JOBS}
    )
    settings_keys = ("REPLICATE_API_TOKEN",)
    credentials_check = ("GET", "/v1/account")

    def api_client(self) -> HttpClient:
        return self._http()

    # -- plumbing

    @property
    def base_url(self) -> str:
        return str(self.setting("REPLICATE_BASE_URL", "") or DEFAULT_BASE_URL).rstrip("/")

    def _http(self, *, timeout: float = 30.0) -> HttpClient:
        token = str(self.setting("REPLICATE_API_TOKEN", "") or "")
        return HttpClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeout, connect=10.0),
            secrets=[token],
            vendor="replicate",
            retry=self.config.get("HTTP_RETRY", RetryPolicy()),
            sleep=self.config.get("HTTP_SLEEP") or time.sleep,
        )

    def _classify(self, response: httpx.Response) -> ProviderError | None:
        if response.status_code != 429:
            return None  # lib/http's defaults fit Replicate's RFC 7807 bodies
        try:
            detail = str(response.json().get("detail", ""))
        except (ValueError, AttributeError):
            detail = response.text[:200]
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if retry_after is None and (found := _RESETS_IN.search(detail)):
            retry_after = float(found.group(1))
        return ProviderError(f"replicate: rate limited: {detail}", retry_after=retry_after, code="rate_limited", status_code=429)

    def route(self, spec: ModelSpec) -> dict[str, Any]:
        route = catalogue_routes(self.identifier).get(spec.name)
        if not route or not route.get("model"):
            raise ProviderError(f"Replicate model '{spec.name}' has no route in the catalogue.", permanent=True, code="unsupported")
        return route

    # -- inputs

    def _file_input(self, http: HttpClient, path: str | None, url: str | None = None) -> str | None:
        if url or not path:
            return image_reference(path=path, url=url)
        limit = int(self.setting("REPLICATE_DATA_URI_MAX", DATA_URI_MAX))
        if Path(path).stat().st_size <= limit:
            return image_reference(path=path)
        with open(path, "rb") as handle:
            response = http.post("/v1/files", files={"content": (Path(path).name, handle, "application/octet-stream")},
                                 classify=self._classify)
        urls = response.json().get("urls") or {}
        if not urls.get("get"):
            raise ProviderError("replicate: the file upload returned no URL.", code="invalid_response")
        return str(urls["get"])

    def create_body(self, http: HttpClient, request: VideoRequest, spec: ModelSpec) -> tuple[str, dict[str, Any]]:
        """(path, JSON body) of the create call for a validated request."""
        route = self.route(spec)
        fields = engine_fields(
            request,
            image=self._file_input(http, request.image_path, request.image_url),
            last_frame=self._file_input(http, request.last_frame_path),
            references=[self._file_input(http, p) or "" for p in request.reference_image_paths],
        )
        body: dict[str, Any] = {"input": map_inputs(route, request.mode, fields)}
        if request.webhook_url:
            body["webhook"] = request.webhook_url
            body["webhook_events_filter"] = ["start", "completed"]
        if route.get("version"):
            body["version"] = str(route["version"])
            return "/v1/predictions", body
        owner, _, name = str(route["model"]).partition("/")
        return f"/v1/models/{owner}/{name}/predictions", body

    # -- contract

    def submit(self, request: VideoRequest) -> SubmitResult:
        spec = self.validate(request)
        wait = int(self.setting("REPLICATE_PREFER_WAIT", 0) or 0)
        headers: dict[str, str] = {}
        if wait > 0:
            headers["Prefer"] = f"wait={min(wait, 60)}"
        cancel_after = str(self.setting("REPLICATE_CANCEL_AFTER", "") or "")
        if cancel_after:
            headers["Cancel-After"] = cancel_after
        with self._http(timeout=30.0 + max(wait, 0)) as http:
            path, body = self.create_body(http, request, spec)
            response = http.post(path, json=body, headers=headers, classify=self._classify)
        prediction = response.json()
        if not prediction.get("id"):
            raise ProviderError("replicate accepted the request but returned no prediction id.", code="invalid_response")
        result = self.result_of(prediction, spec=spec)
        return SubmitResult(external_id=str(prediction["id"]), poll_after=0.0 if result.is_final else spec.poll_interval,
                            raw=prediction)

    def poll(self, external_id: str) -> PollResult:
        with self._http() as http:
            prediction = http.get(f"/v1/predictions/{external_id}", classify=self._classify).json()
        return self.result_of(prediction)

    def result_of(self, prediction: Mapping[str, Any], *, spec: ModelSpec | None = None) -> PollResult:
        """The engine's view of a prediction object (GET answer, create answer or webhook body)."""
        status = str(prediction.get("status", ""))
        state = STATES.get(status)
        if state is None:
            raise ProviderError(f"replicate returned an unknown status {status!r}.", code="invalid_response")
        if spec is None:
            spec = self._spec_for(str(prediction.get("model") or ""), str(prediction.get("version") or ""))
        interval = spec.poll_interval if spec else 5.0
        raw = dict(prediction)
        if state == SUCCEEDED:
            urls = self._output_urls(prediction.get("output"))
            if not urls:
                error = ProviderError("replicate finished without a video output.", permanent=True, code="empty_result")
                return PollResult(FAILED, message=error.message, error=error, raw=raw)
            completed = _parse_time(prediction.get("completed_at")) or dt.datetime.now(dt.timezone.utc)
            raw["output_expires_at"] = (completed + OUTPUT_LIFETIME).isoformat()
            return PollResult(SUCCEEDED, percent=100, result_urls=urls,
                              message="Replicate deletes the output one hour after completion.", raw=raw)
        if state == FAILED:
            error = self._failure(prediction)
            return PollResult(FAILED, message=error.message, error=error, raw=raw)
        if state == CANCELED:
            return PollResult(CANCELED, message="Canceled on Replicate.", raw=raw)
        logs = str(prediction.get("logs") or "").splitlines()
        percent = percent_from_logs(logs) if state == RUNNING else None
        message = "Starting (queued or booting)." if state == QUEUED else "Rendering."
        return PollResult(state, percent=percent, message=message, poll_after=interval, raw=raw)

    @staticmethod
    def _failure(prediction: Mapping[str, Any]) -> ProviderError:
        if prediction.get("status") == "aborted":
            return ProviderError("replicate: the prediction hit its Cancel-After deadline before starting.", code="deadline")
        detail = str(prediction.get("error") or "the prediction failed")
        if _MODERATION.search(detail):
            return ProviderError(f"replicate refused the content: {detail}", permanent=True, code="moderation")
        # A model-side failure of a given input fails the same way again: move on, don't retry.
        return ProviderError(f"replicate: {detail}", permanent=True, code="failed")

    @staticmethod
    def _output_urls(output: Any) -> list[str]:
        if isinstance(output, str) and output:
            return [output]
        if isinstance(output, list):
            return [str(item) for item in output if isinstance(item, str) and item]
        if isinstance(output, dict):
            for key in ("video", "url", "output"):
                if isinstance(output.get(key), str):
                    return [str(output[key])]
        return []

    def _spec_for(self, model: str, version: str) -> ModelSpec | None:
        routes = catalogue_routes(self.identifier)
        for spec in self.models():
            route = routes.get(spec.name) or {}
            if (version and route.get("version") == version) or (model and route.get("model") == model):
                return spec
        return None

    def cancel(self, external_id: str) -> None:
        with self._http() as http:
            prediction = http.post(f"/v1/predictions/{external_id}/cancel", classify=self._classify).json()
        status = str(prediction.get("status", ""))
        if status in ("succeeded", "failed"):
            raise ProviderError(f"replicate: the prediction had already {status}; nothing to cancel.", permanent=True,
                                code="already_completed")

    def list_jobs(self, *, limit: int = 20) -> list[dict[str, Any]]:
        jobs: list[dict[str, Any]] = []
        path: str | None = "/v1/predictions"
        with self._http() as http:
            while path and len(jobs) < limit:
                page = http.get(path, classify=self._classify).json()
                jobs.extend(page.get("results") or ())
                nxt = page.get("next")
                # Follow the cursor on our own base URL: the client must not be led to another host.
                path = httpx.URL(nxt).raw_path.decode() if nxt else None
        return jobs[:limit]

    # -- webhooks

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent | None:
        verified = standard_webhook_payload(
            vendor="replicate", secret=str(self.setting("REPLICATE_WEBHOOK_SECRET", "") or ""), headers=headers, body=body,
            tolerance=float(self.setting("REPLICATE_WEBHOOK_TOLERANCE", 300)),
        )
        if verified is None:
            return None
        delivery_id, prediction = verified
        if not isinstance(prediction, dict) or not prediction.get("id"):
            raise ProviderError("replicate webhook body has no prediction id.", permanent=True, code="invalid")
        return WebhookEvent(external_id=str(prediction["id"]), delivery_id=delivery_id or header(headers, "webhook-id"),
                            result=self.result_of(prediction))

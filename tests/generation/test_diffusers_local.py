"""The local GPU provider's loading and rendering code, run on CPU with a tiny randomly initialised
text-to-video pipeline saved to a temporary folder (no weights are downloaded): through the engine
to a real MP4 asset, with its progress and its cancel. bench/bench_gpu_generation.py runs the same
worker task on a GPU with a full-size pipeline."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytest.importorskip("transformers")

from generation.providers.base import CANCELED, VideoRequest  # noqa: E402
from generation.providers.diffusers_local import (  # noqa: E402
    DiffusersProvider,
    diffusers_render,
    generate_frames,
    load_pipeline,
)
from generation.providers.local_jobs import JobStatus  # noqa: E402
from mediastudio.lib.providers import ProviderError  # noqa: E402
from generation.providers.diffusers_random import save_random_pipeline  # noqa: E402
from generation.services import attempts_poll_due, video_estimate, video_generation_create  # noqa: E402
from media_assets.storage import storage_fetch_to_temp  # noqa: E402
from mediastudio.jobs.models import Job  # noqa: E402
from mediastudio.jobs.tasks import job_execute  # noqa: E402
from tests.generation.conftest import ffprobe_video  # noqa: E402


@pytest.fixture(scope="module")
def tiny_pipeline_dir(tmp_path_factory):
    return save_random_pipeline(tmp_path_factory.mktemp("tiny-t2v"), size="tiny")


@pytest.fixture
def local_gpu(settings, tiny_pipeline_dir, tmp_path):
    settings.DIFFUSERS_MODEL_DIR = str(tiny_pipeline_dir)
    settings.DIFFUSERS_WORK_DIR = str(tmp_path / "work")
    settings.DIFFUSERS_FRAME_SIZE = "32x48"
    settings.DIFFUSERS_STEPS = 2
    settings.DIFFUSERS_FPS = 8
    settings.DIFFUSERS_DEVICE = "cpu"
    settings.VIDEO_TIER_CHAINS = {"standard": ["diffusers", "animatic"]}


def test_it_is_disabled_without_a_model_folder(settings, tmp_path):
    settings.DIFFUSERS_MODEL_DIR = ""
    assert not DiffusersProvider.is_enabled()
    settings.DIFFUSERS_MODEL_DIR = str(tmp_path)  # exists, but holds no pipeline
    assert not DiffusersProvider.is_enabled()


def test_it_loads_the_saved_pipeline_once_per_process(local_gpu, tiny_pipeline_dir):
    first = load_pipeline(tiny_pipeline_dir, device="cpu")
    assert type(first).__name__ == "TextToVideoSDPipeline"
    assert load_pipeline(tiny_pipeline_dir, device="cpu") is first


@pytest.mark.django_db
def test_it_renders_through_the_engine_to_an_mp4_asset(local_gpu, workspace, owner):
    estimate = video_estimate(prompt="a can", tier="standard", duration=1, aspect_ratio="9:16", resolution="480p")
    assert [c.provider for c in estimate.plan.candidates] == ["diffusers", "animatic"]
    generation, _ = video_generation_create(workspace=workspace, user=owner, prompt="a can", tier="standard",
                                            duration=1, aspect_ratio="9:16", resolution="480p")
    job_execute(str(generation.job_id))
    for i in range(5):
        generation.job.refresh_from_db()
        if generation.job.is_final:
            break
        attempts_poll_due(now=timezone.now() + dt.timedelta(seconds=10 * (i + 1)))
    generation.job.refresh_from_db()
    assert generation.job.status == Job.Status.SUCCEEDED, generation.job.error
    assert generation.job.result["provider"] == "diffusers"
    generation.refresh_from_db()
    path, _ = storage_fetch_to_temp(generation.result_asset.file.name)
    info = ffprobe_video(path)
    assert (info["codec"], info["pix_fmt"], info["width"], info["height"], info["frames"]) == ("h264", "yuv420p", 32, 48, 8)


def test_it_reports_each_denoising_step_of_a_legacy_callback_pipeline(local_gpu, tiny_pipeline_dir):
    # TextToVideoSDPipeline knows only the legacy `callback`, not `callback_on_step_end`.
    pipe = load_pipeline(tiny_pipeline_dir, device="cpu")
    reported: list[tuple[int, str]] = []
    frames = generate_frames(pipe, {"prompt": "a can", "duration": 1, "aspect_ratio": "9:16", "resolution": "480p"},
                             steps=3, size=(32, 48), progress=lambda percent, message: reported.append((percent, message)))
    assert len(frames) == 8
    assert reported == [(31, "Denoising step 1 of 3"), (63, "Denoising step 2 of 3"), (95, "Denoising step 3 of 3")]


@pytest.mark.django_db
def test_a_cancel_stops_the_render_between_denoising_steps_and_leaves_no_video(local_gpu, monkeypatch):
    provider = DiffusersProvider()
    job = provider.create_job(VideoRequest(prompt="a can", duration=1, aspect_ratio="9:16", resolution="480p"))
    steps_seen: list[str] = []
    report = JobStatus.progress

    def progress_then_cancel(self, percent, message):  # the user presses cancel once step 1 shows
        steps_seen.append(message)
        report(self, percent, message)
        provider.cancel(job)

    monkeypatch.setattr(JobStatus, "progress", progress_then_cancel)
    assert diffusers_render(job) == "canceled"
    assert steps_seen == ["Denoising step 1 of 2"]
    result = provider.poll(job)
    assert result.state == CANCELED
    assert not (provider.job_dir(job) / "output.mp4").exists()


def test_the_vae_decodes_frame_by_frame_unless_turned_off(local_gpu, tiny_pipeline_dir, settings, monkeypatch):
    from generation.providers import diffusers_local

    monkeypatch.setattr(diffusers_local, "_PIPELINES", {})
    assert load_pipeline(tiny_pipeline_dir, device="cpu").vae.use_slicing
    monkeypatch.setattr(diffusers_local, "_PIPELINES", {})
    settings.DIFFUSERS_VAE_SLICING = False
    assert not load_pipeline(tiny_pipeline_dir, device="cpu").vae.use_slicing


def test_the_weights_load_in_the_dtype_set(local_gpu, tiny_pipeline_dir, settings):
    import torch

    assert load_pipeline(tiny_pipeline_dir, device="cpu").unet.dtype == torch.float32  # the CPU's default
    settings.DIFFUSERS_DTYPE = "bfloat16"
    pipe = load_pipeline(tiny_pipeline_dir, device="cpu")
    assert (pipe.unet.dtype, pipe.text_encoder.dtype, pipe.vae.dtype) == (torch.bfloat16,) * 3


@pytest.mark.django_db
def test_frames_that_are_not_numbers_fail_the_request_instead_of_making_a_black_video(local_gpu, monkeypatch):
    import numpy as np

    from generation.providers import diffusers_local

    overflowed = [np.full((48, 32, 3), np.nan, dtype=np.float32)] * 8  # what float16 overflow gives
    monkeypatch.setattr(diffusers_local, "generate_frames", lambda *args, **kwargs: overflowed)
    provider = DiffusersProvider()
    job = provider.create_job(VideoRequest(prompt="a can", duration=1, aspect_ratio="9:16", resolution="480p"))
    assert diffusers_render(job) == "failed"
    result = provider.poll(job)
    assert "not numbers (NaN)" in str(result.error) and "DIFFUSERS_DTYPE=bfloat16" in str(result.error)
    assert not (provider.job_dir(job) / "output.mp4").exists()


def test_a_web_process_without_torch_offers_it_only_when_told_a_gpu_worker_exists(local_gpu, settings, monkeypatch):
    from generation.providers import diffusers_local

    real = diffusers_local.importlib.util.find_spec
    monkeypatch.setattr(diffusers_local.importlib.util, "find_spec",
                        lambda name, *a: None if name in ("torch", "diffusers") else real(name, *a))
    settings.DIFFUSERS_ENABLED = None  # unset: on when this process could render
    assert not DiffusersProvider.is_enabled()
    settings.DIFFUSERS_ENABLED = True  # compose's gpu profile: the GPU worker has torch, the web does not
    assert DiffusersProvider.is_enabled()
    settings.DIFFUSERS_ENABLED = False
    assert not DiffusersProvider.is_enabled()


@pytest.fixture(scope="module")
def tiny_image_pipeline_dir(tmp_path_factory):
    return save_random_pipeline(tmp_path_factory.mktemp("tiny-svd"), size="tiny", kind="image")


@pytest.mark.django_db
def test_a_stable_video_diffusion_pipeline_animates_the_first_frame_it_is_given(local_gpu, settings,
                                                                                tiny_image_pipeline_dir, tmp_path):
    from PIL import Image

    settings.DIFFUSERS_MODEL_DIR = str(tiny_image_pipeline_dir)
    provider = DiffusersProvider()
    assert provider.models()[0].capabilities == {"image_to_video", "cancel"}  # its class name does not say so
    with pytest.raises(ProviderError, match="does not support text-to-video"):
        provider.create_job(VideoRequest(prompt="a can", duration=1, aspect_ratio="9:16", resolution="480p"))
    first = tmp_path / "first.png"
    Image.new("RGB", (320, 480), (200, 40, 40)).save(first)
    job = provider.create_job(VideoRequest(prompt="a can", image_path=str(first), duration=1, aspect_ratio="9:16",
                                           resolution="480p"))
    messages: list[str] = []
    report = JobStatus.progress
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(JobStatus, "progress", lambda self, percent, message: (messages.append(message), report(self, percent, message)))
        assert diffusers_render(job) == "succeeded", provider.poll(job).error
    assert messages == ["Denoising step 1 of 2", "Denoising step 2 of 2"]
    info = ffprobe_video(provider.job_dir(job) / "output.mp4")
    assert (info["codec"], info["width"], info["height"], info["frames"]) == ("h264", 32, 48, 8)


@pytest.mark.django_db
def test_only_the_first_request_of_a_worker_says_it_is_loading_the_model(local_gpu, monkeypatch):
    from generation.providers import diffusers_local

    monkeypatch.setattr(diffusers_local, "_PIPELINES", {})
    said: list[str] = []
    status_set = JobStatus.set

    def recording(self, state, percent=0, message="", error=""):
        if state == "running" and percent == 0:
            said.append(message)
        status_set(self, state, percent, message, error)

    monkeypatch.setattr(JobStatus, "set", recording)
    provider = DiffusersProvider()
    for _ in range(2):
        job = provider.create_job(VideoRequest(prompt="a can", duration=1, aspect_ratio="9:16", resolution="480p"))
        assert diffusers_render(job) == "succeeded"
    assert said == ["Loading the model", "Starting"]

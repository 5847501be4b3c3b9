"""The local GPU provider's loading and rendering code, run on CPU with a tiny randomly initialised
text-to-video pipeline saved to a temporary folder (no weights are downloaded): through the engine
to a real MP4 asset."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytest.importorskip("transformers")

from generation.providers.diffusers_local import DiffusersProvider, load_pipeline  # noqa: E402
from generation.services import attempts_poll_due, video_estimate, video_generation_create  # noqa: E402
from media_assets.storage import storage_fetch_to_temp  # noqa: E402
from mediastudio.jobs.models import Job  # noqa: E402
from mediastudio.jobs.tasks import job_execute  # noqa: E402
from tests.generation.conftest import ffprobe_video  # noqa: E402


@pytest.fixture(scope="module")
def tiny_pipeline_dir(tmp_path_factory):
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, TextToVideoSDPipeline, UNet3DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    folder = tmp_path_factory.mktemp("tiny-t2v")
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1, "a</w>": 2, "can</w>": 3}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    torch.manual_seed(0)
    tokenizer = CLIPTokenizer(vocab_file=str(folder / "vocab.json"), merges_file=str(folder / "merges.txt"), model_max_length=16)
    text = CLIPTextModel(CLIPTextConfig(vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                        num_attention_heads=2, max_position_embeddings=16, projection_dim=16,
                                        bos_token_id=0, eos_token_id=1, pad_token_id=1))
    unet = UNet3DConditionModel(block_out_channels=(16, 32), layers_per_block=1, sample_size=8, in_channels=4, out_channels=4,
                                down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
                                up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"), cross_attention_dim=16,
                                attention_head_dim=4, norm_num_groups=4)
    vae = AutoencoderKL(block_out_channels=(8,), in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",),
                        up_block_types=("UpDecoderBlock2D",), latent_channels=4, norm_num_groups=4, sample_size=32)
    model = folder / "model"
    TextToVideoSDPipeline(vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet, scheduler=DDIMScheduler()).save_pretrained(str(model))
    return model


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

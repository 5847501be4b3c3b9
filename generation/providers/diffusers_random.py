"""Randomly initialised video pipelines, saved as diffusers saves real ones.

Nothing can be downloaded on the machines that test the local GPU provider, so its tests and its
benchmark build the pipeline they load, either ``tiny`` (a few thousand weights: the CPU tests) or
``full``, with the layer sizes of a public model, so that a GPU does the same work per denoising
step as with real weights. The pictures are noise; the code path, the memory and the time are the
real ones. Two kinds:

- ``text``: a TextToVideoSDPipeline (UNet3D, a CLIP text encoder, a VAE, DDIM); full size is the
  1.7 B-parameter ModelScope text-to-video model. Its tokenizer knows a handful of words (the text
  encoder's embedding table keeps its full size).
- ``image``: a StableVideoDiffusionPipeline (a spatio-temporal UNet, a CLIP image encoder, a
  temporal VAE decoder, Euler); full size is Stable Video Diffusion's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

Size = Literal["tiny", "full"]
Kind = Literal["text", "image"]

_WORDS = ("<|startoftext|>", "<|endoftext|>", "a</w>", "can</w>", "of</w>", "sparkling</w>", "water</w>")


def _unet_config(size: Size) -> dict:
    if size == "tiny":
        return {"block_out_channels": (16, 32), "layers_per_block": 1, "sample_size": 8,
                "down_block_types": ("CrossAttnDownBlock3D", "DownBlock3D"),
                "up_block_types": ("UpBlock3D", "CrossAttnUpBlock3D"),
                "cross_attention_dim": 16, "attention_head_dim": 4, "norm_num_groups": 4}
    return {"block_out_channels": (320, 640, 1280, 1280), "layers_per_block": 2, "sample_size": 32,
            "down_block_types": ("CrossAttnDownBlock3D",) * 3 + ("DownBlock3D",),
            "up_block_types": ("UpBlock3D",) + ("CrossAttnUpBlock3D",) * 3,
            "cross_attention_dim": 1024, "attention_head_dim": 64, "norm_num_groups": 32}


def _text_config(size: Size, vocab: int) -> dict:
    if size == "tiny":
        return {"vocab_size": vocab, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1,
                "num_attention_heads": 2, "max_position_embeddings": 16, "projection_dim": 16}
    return {"vocab_size": 49408, "hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 23,
            "num_attention_heads": 16, "max_position_embeddings": 77, "projection_dim": 512, "hidden_act": "gelu"}


def _vae_config(size: Size) -> dict:
    if size == "tiny":
        return {"block_out_channels": (8,), "down_block_types": ("DownEncoderBlock2D",),
                "up_block_types": ("UpDecoderBlock2D",), "norm_num_groups": 4, "sample_size": 32}
    return {"block_out_channels": (128, 256, 512, 512), "layers_per_block": 2,
            "down_block_types": ("DownEncoderBlock2D",) * 4, "up_block_types": ("UpDecoderBlock2D",) * 4,
            "norm_num_groups": 32, "sample_size": 256}


def save_random_pipeline(folder: str | Path, *, size: Size = "tiny", kind: Kind = "text", seed: int = 0,
                         device: str = "cpu", half: bool = False) -> Path:
    """Build a random pipeline of ``kind`` and ``size`` and save it into ``folder``/model; returns
    that folder (what DIFFUSERS_MODEL_DIR names). ``device`` is where the weights are initialised
    (a GPU makes the full ones in seconds); ``half`` saves them as float16, as published models are."""
    import torch

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    pipe = _text_pipeline(folder, size, device) if kind == "text" else _image_pipeline(size, device)
    if half:
        pipe = pipe.to(torch.float16)
    model = folder / "model"
    pipe.save_pretrained(str(model))
    return model


def _text_pipeline(folder: Path, size: Size, device: str):
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, TextToVideoSDPipeline, UNet3DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    vocab = {word: i for i, word in enumerate(_WORDS)}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    text_config = _text_config(size, len(vocab))
    tokenizer = CLIPTokenizer(vocab_file=str(folder / "vocab.json"), merges_file=str(folder / "merges.txt"),
                              model_max_length=text_config["max_position_embeddings"])
    with torch.device(device):
        text = CLIPTextModel(CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1, **text_config))
        unet = UNet3DConditionModel(in_channels=4, out_channels=4, **_unet_config(size))
        vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, **_vae_config(size))
    return TextToVideoSDPipeline(vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet, scheduler=DDIMScheduler())


def _image_pipeline(size: Size, device: str):
    import torch
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    with torch.device(device):
        if size == "tiny":
            unet = UNetSpatioTemporalConditionModel(
                block_out_channels=(32, 64), layers_per_block=2, sample_size=32, in_channels=8, out_channels=4,
                down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
                up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"), cross_attention_dim=32,
                num_attention_heads=8, projection_class_embeddings_input_dim=96, addition_time_embed_dim=32)
            vae = AutoencoderKLTemporalDecoder(block_out_channels=(32, 64), down_block_types=("DownEncoderBlock2D",) * 2)
            vision = {"hidden_size": 32, "projection_dim": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                      "intermediate_size": 37, "patch_size": 32}
        else:  # the library's defaults are Stable Video Diffusion's UNet; the VAE and ViT-H/14 as published
            unet = UNetSpatioTemporalConditionModel()
            vae = AutoencoderKLTemporalDecoder(block_out_channels=(128, 256, 512, 512), layers_per_block=2,
                                               down_block_types=("DownEncoderBlock2D",) * 4)
            vision = {"hidden_size": 1280, "projection_dim": 1024, "num_hidden_layers": 32, "num_attention_heads": 16,
                      "intermediate_size": 5120, "patch_size": 14, "hidden_act": "gelu"}
        encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(image_size=224, **vision))
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", interpolation_type="linear",
        num_train_timesteps=1000, prediction_type="v_prediction", sigma_max=700.0, sigma_min=0.002, steps_offset=1,
        timestep_spacing="leading", timestep_type="continuous", use_karras_sigmas=True)
    return StableVideoDiffusionPipeline(vae=vae, image_encoder=encoder, unet=unet, scheduler=scheduler,
                                        feature_extractor=CLIPImageProcessor(crop_size=224, size=224))


def parameter_count(folder: str | Path) -> int:
    """How many weights the pipeline saved in ``folder`` holds (read from its safetensors headers)."""
    total = 0
    for path in Path(folder).rglob("*.safetensors"):
        with path.open("rb") as handle:
            length = int.from_bytes(handle.read(8), "little")
            header = json.loads(handle.read(length))
        for name, info in header.items():
            if name != "__metadata__":
                count = 1
                for dim in info["shape"]:
                    count *= dim
                total += count
    return total

"""Builds the tiny random-weight reference models and their golden outputs with diffusers.

Run from the repo root:  python3 tests/reference/make_fixtures.py
Writes tests/fixtures/: a CLIP tokenizer made from the real vocabulary, token-id cases, and two
tiny AnimateDiff pipelines in diffusers layout with golden tensors (.npy) for each block and for
whole runs. Single-threaded with deterministic algorithms, so reruns are bit-identical.

Two configurations cover the layouts real checkpoints come in:
  tiny-mid   : pipeline folder whose unet/ is a UNetMotionModel; motion module in the mid block;
               f32 weights; DDIM linear/linspace.
  tiny-split : SD1.5-style unet/ (UNet2DConditionModel) plus a separate motion_adapter/; no mid
               motion module; other head counts and norm groups; text encoder stored f16 and VAE
               bf16 (the reference runs on the rounded values in f32); DDIM scaled_linear/leading;
               tokenizer given as vocab.json + merges.txt only.
  tiny-split/lightning : a bare motion adapter file with no config.json, as AnimateDiff-Lightning
               ships them (MotionAdapter's default heads and position table, a mid block), with a
               run on Lightning's sampler: Euler, trailing spacing, linear betas, no guidance.
  tiny-mid/golden/training : one training step's loss and gradients (text encoder + UNet, the
               trainer's mean-squared error against a given target), so the engine's training
               path under Burn's autodiff is checked against PyTorch's.
"""

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

import open_clip  # noqa: E402
from diffusers import (  # noqa: E402
    AnimateDiffPipeline,
    AutoencoderKL,
    DDIMScheduler,
    EulerDiscreteScheduler,
    MotionAdapter,
    UNet2DConditionModel,
    UNetMotionModel,
)
from safetensors.torch import save_file  # noqa: E402
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer  # noqa: E402
from open_clip.tokenizer import bytes_to_unicode  # noqa: E402

ROOT = Path(__file__).resolve().parents[1] / "fixtures"
PROMPT = "a red fox running through fresh snow, cinematic"
NEGATIVE = "blurry, low quality"
FRAMES = 8
STEPS_DDIM = 3
STEPS_EULER = 2
GUIDANCE = 7.5
LIGHTNING_FILE = "animatediff_lightning_4step_diffusers.safetensors"
STEPS_LIGHTNING = 4

TOKENIZER_CASES = [
    "a cat",
    "A Cat",
    "  lots   of\twhitespace \n here  ",
    "",
    "Hello, world!",
    "a red fox running through snow, cinematic lighting, 4k",
    "numbers 123 4567 3.14159 1,000,000",
    "café naïve résumé déjà vu",
    "Ærøskøbing Straße façade",
    "emoji 🦊🔥 party 🎉",
    "👍🏽 thumbs",
    "don't won't it's we're they've I'm you'll he'd",
    "quotes \"double\" and 'single'",
    "hyphen-ated words and under_scores",
    "url https://example.com/path?x=1&y=2",
    "email someone@example.org",
    "brackets (round) [square] {curly} <angle>",
    "math: 2+2=4, 10% off, $5 & €3",
    "ALL CAPS SHOUTING",
    "mixedCase camelCase PascalCase",
    "日本語のテキスト",
    "中文 提示词",
    "русский текст",
    "ελληνικά",
    "العربية",
    "tabs\tand\nnewlines\r\n",
    "repeated!!!??? ...",
    "a photo of an astronaut riding a horse on mars",
    "<|startoftext|> special tokens <|endoftext|> inline",
    "unicode\u00a0nbsp and\u2009thin space",
    "long " + " ".join(f"word{i}" for i in range(120)),
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
]


def make_tokenizer(folder: Path) -> CLIPTokenizer:
    """The HF CLIP tokenizer files from open_clip's copy of the real BPE merges."""
    bpe = Path(open_clip.__file__).parent / "bpe_simple_vocab_16e6.txt.gz"
    merges = gzip.open(bpe).read().decode("utf-8").split("\n")[1 : 49152 - 256 - 2 + 1]
    merges = [tuple(m.split()) for m in merges]
    vocab = list(bytes_to_unicode().values())
    vocab = vocab + [v + "</w>" for v in vocab] + ["".join(m) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}, ensure_ascii=False))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n")
    tokenizer = CLIPTokenizer(
        vocab={t: i for i, t in enumerate(vocab)},
        merges=merges,
        pad_token="<|endoftext|>",
        model_max_length=77,
    )
    # Guard against a tokenizer that silently ignored its vocabulary.
    assert tokenizer("a cat").input_ids == [49406, 320, 2368, 49407], tokenizer("a cat").input_ids
    tokenizer.save_pretrained(folder)
    return tokenizer


def perturb_constants(model: torch.nn.Module, generator: torch.Generator) -> None:
    """Default init leaves norms at 1/0 and some layers at 0, which hides missing weights or
    biases: give every constant parameter small seeded noise around its value."""
    with torch.no_grad():
        for _, param in model.named_parameters():
            flat = param.flatten()
            if torch.all(flat == flat[0]):
                param.add_(0.1 * torch.randn(param.shape, generator=generator))


def round_to(model: torch.nn.Module, dtype: torch.dtype) -> None:
    """Round weights to `dtype` and back: the f32 reference then runs on exactly what is stored."""
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(param.to(dtype).to(torch.float32))


def save_npy(folder: Path, name: str, value) -> None:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    np.save(folder / f"{name}.npy", np.ascontiguousarray(value))


def tiny_text_encoder(hidden: int, heads: int, layers: int, generator) -> CLIPTextModel:
    config = CLIPTextConfig(
        vocab_size=49408, hidden_size=hidden, intermediate_size=hidden * 2 + 5,
        num_attention_heads=heads, num_hidden_layers=layers, max_position_embeddings=77,
        hidden_act="quick_gelu", layer_norm_eps=1e-5, bos_token_id=49406, eos_token_id=49407,
        pad_token_id=49407, projection_dim=hidden,
    )
    model = CLIPTextModel(config).eval()
    perturb_constants(model, generator)
    return model


def tiny_vae(groups: int, generator) -> AutoencoderKL:
    model = AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(16, 16, 32, 32), layers_per_block=1, norm_num_groups=groups,
        sample_size=64, scaling_factor=0.18215,
    ).eval()
    perturb_constants(model, generator)
    return model


def build_mid(generator):
    text_encoder = tiny_text_encoder(32, 4, 2, generator)
    unet = UNetMotionModel(
        sample_size=8, in_channels=4, out_channels=4,
        down_block_types=("CrossAttnDownBlockMotion", "DownBlockMotion"),
        up_block_types=("UpBlockMotion", "CrossAttnUpBlockMotion"),
        block_out_channels=(32, 64), layers_per_block=1, norm_num_groups=8,
        cross_attention_dim=32, num_attention_heads=2, motion_num_attention_heads=4,
        motion_max_seq_length=32, use_motion_mid_block=True,
    ).eval()
    perturb_constants(unet, generator)
    vae = tiny_vae(8, generator)
    scheduler = DDIMScheduler(
        num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="linear",
        clip_sample=False, set_alpha_to_one=False, steps_offset=1, timestep_spacing="linspace",
    )
    return dict(text_encoder=text_encoder, unet=unet, motion_adapter=None, vae=vae, scheduler=scheduler)


def build_split(generator):
    text_encoder = tiny_text_encoder(48, 3, 2, generator)
    unet2d = UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        block_out_channels=(32, 64), layers_per_block=2, norm_num_groups=16,
        cross_attention_dim=48, attention_head_dim=4,
    ).eval()
    perturb_constants(unet2d, generator)
    adapter = MotionAdapter(
        block_out_channels=(32, 64), motion_layers_per_block=2, motion_num_attention_heads=2,
        motion_norm_num_groups=16, motion_max_seq_length=24, use_motion_mid_block=False,
    ).eval()
    perturb_constants(adapter, generator)
    vae = tiny_vae(16, generator)
    round_to(text_encoder, torch.float16)
    round_to(vae, torch.bfloat16)
    scheduler = DDIMScheduler(
        num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
        clip_sample=False, set_alpha_to_one=False, steps_offset=1, timestep_spacing="leading",
    )
    return dict(text_encoder=text_encoder, unet=unet2d, motion_adapter=adapter, vae=vae, scheduler=scheduler)


def save_pipeline(folder: Path, parts: dict, tokenizer_dir: Path, tokenizer_json: bool) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    text_dtype = torch.float16 if parts["motion_adapter"] is not None else torch.float32
    parts["text_encoder"].to(text_dtype).save_pretrained(folder / "text_encoder")
    parts["text_encoder"].to(torch.float32)
    vae_dtype = torch.bfloat16 if parts["motion_adapter"] is not None else torch.float32
    parts["vae"].to(vae_dtype).save_pretrained(folder / "vae")
    parts["vae"].to(torch.float32)
    parts["unet"].save_pretrained(folder / "unet")
    if parts["motion_adapter"] is not None:
        parts["motion_adapter"].save_pretrained(folder / "motion_adapter")
    parts["scheduler"].save_pretrained(folder / "scheduler")
    shutil.copytree(tokenizer_dir, folder / "tokenizer")
    if not tokenizer_json:
        (folder / "tokenizer" / "tokenizer.json").unlink()


def run_reference(folder: Path, parts: dict, tokenizer: CLIPTokenizer, generator) -> None:
    golden = folder / "golden"
    golden.mkdir()
    pipe = AnimateDiffPipeline(
        vae=parts["vae"], text_encoder=parts["text_encoder"], tokenizer=tokenizer, unet=parts["unet"],
        motion_adapter=parts["motion_adapter"], scheduler=parts["scheduler"],
    )
    pipe.set_progress_bar_config(disable=True)
    unet, vae, text_encoder = pipe.unet, pipe.vae, pipe.text_encoder
    latent_hw = 8

    # Tokens and text embeddings.
    ids = tokenizer([PROMPT, NEGATIVE], padding="max_length", max_length=77, truncation=True,
                    return_tensors="pt").input_ids
    save_npy(golden, "token_ids", ids.to(torch.int64))
    with torch.no_grad():
        save_npy(golden, "text_embeddings", text_encoder(ids)[0])

    # One UNet call on the CFG batch, at an intermediate timestep.
    sample = torch.randn((2, 4, FRAMES, latent_hw, latent_hw), generator=generator)
    # diffusers' UNetMotionModel takes one text embedding per frame (the pipeline repeats them).
    hidden = torch.randn((2 * FRAMES, 77, text_encoder.config.hidden_size), generator=generator)
    with torch.no_grad():
        out = unet(sample, torch.tensor(421), encoder_hidden_states=hidden).sample
    save_npy(golden, "unet_sample", sample)
    save_npy(golden, "unet_timestep", np.array([421], dtype=np.int64))
    save_npy(golden, "unet_encoder_hidden_states", hidden)
    save_npy(golden, "unet_output", out)

    # VAE decode of scaled latents for 3 frames.
    latents = torch.randn((3, 4, latent_hw, latent_hw), generator=generator)
    with torch.no_grad():
        decoded = vae.decode(latents / vae.config.scaling_factor).sample
    save_npy(golden, "vae_latents", latents)
    save_npy(golden, "vae_decoded", decoded)

    # Whole runs from given unit-variance initial latents.
    init = torch.randn((1, 4, FRAMES, latent_hw, latent_hw), generator=generator)
    save_npy(golden, "init_latents", init)
    for name, scheduler, steps, guidance in [
        ("ddim", parts["scheduler"], STEPS_DDIM, GUIDANCE),
        # The CLI's `--scheduler euler`: Euler, trailing spacing, on the model's own betas.
        ("euler", EulerDiscreteScheduler.from_config(parts["scheduler"].config, timestep_spacing="trailing"),
         STEPS_EULER, 1.0),
    ]:
        pipe.scheduler = scheduler
        per_step = []
        def record(_pipe, _i, _t, kwargs):
            per_step.append(kwargs["latents"].clone())
            return kwargs
        result = pipe(
            prompt=PROMPT, negative_prompt=NEGATIVE if guidance > 1 else None, num_frames=FRAMES,
            height=latent_hw * 8, width=latent_hw * 8, num_inference_steps=steps, guidance_scale=guidance,
            latents=init.clone(), output_type="np", callback_on_step_end=record,
        )
        save_npy(golden, f"{name}_step_latents", torch.stack(per_step))
        save_npy(golden, f"{name}_video", result.frames[0].astype(np.float32))
        save_npy(golden, f"{name}_timesteps", scheduler.timesteps.numpy().astype(np.float64))
    # diffusers' enable_free_noise needs a separate motion adapter: tiny-split has one.
    if parts["motion_adapter"] is not None:
        run_free_noise(pipe, parts["scheduler"], golden, generator)
    (golden / "run.json").write_text(json.dumps({
        "prompt": PROMPT, "negative": NEGATIVE, "frames": FRAMES, "height": latent_hw * 8,
        "width": latent_hw * 8, "ddim": {"steps": STEPS_DDIM, "guidance": GUIDANCE},
        "euler": {"steps": STEPS_EULER, "guidance": 1.0},
    }, indent=2))


FREE_NOISE_RUNS = {
    # name: (frames, prompt or {frame: prompt})
    "freenoise64": (64, PROMPT),
    "freenoise32_travel": (32, {0: PROMPT, 16: "a white rabbit jumping over a log"}),
}


def run_free_noise(pipe, scheduler, golden: Path, generator) -> None:
    """FreeNoise (window 16, stride 4, pyramid, shuffled noise) from diffusers' own rescheduled
    initial latents. 64 and 32 frames are window + k·stride, where diffusers' tail-window bug
    does not bite."""
    pipe.scheduler = scheduler
    pipe.enable_free_noise(context_length=16, context_stride=4, weighting_scheme="pyramid",
                           noise_type="shuffle_context")
    for name, (frames, prompt) in FREE_NOISE_RUNS.items():
        init = pipe._prepare_latents_free_noise(1, 4, frames, 64, 64, torch.float32, torch.device("cpu"),
                                                generator, None)
        save_npy(golden, f"{name}_init_latents", init)
        result = pipe(prompt=prompt, negative_prompt=NEGATIVE, num_frames=frames, height=64, width=64,
                      num_inference_steps=STEPS_DDIM, guidance_scale=GUIDANCE, latents=init.clone(),
                      output_type="latent")
        latents = result.frames
        save_npy(golden, f"{name}_latents", latents)
        with torch.no_grad():
            video = pipe.decode_latents(latents, decode_chunk_size=16)
        video = pipe.video_processor.postprocess_video(video=video, output_type="np")[0]
        save_npy(golden, f"{name}_video", video.astype(np.float32))


def make_lightning(split: Path) -> None:
    """Writes split/lightning/: an adapter file for the tiny-split UNet, saved the way
    AnimateDiff-Lightning ships its adapters (a bare state dict, no config), and its golden run
    on the saved tiny-split pipeline with Lightning's sampler."""
    torch.manual_seed(3)
    generator = torch.Generator().manual_seed(3)
    adapter = MotionAdapter(block_out_channels=(32, 64), motion_layers_per_block=2, motion_norm_num_groups=16).eval()
    perturb_constants(adapter, generator)
    folder = split / "lightning"
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "golden").mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in adapter.state_dict().items()}, folder / LIGHTNING_FILE)
    f32 = dict(torch_dtype=torch.float32)
    pipe = AnimateDiffPipeline(
        vae=AutoencoderKL.from_pretrained(split / "vae", **f32),
        text_encoder=CLIPTextModel.from_pretrained(split / "text_encoder", **f32),
        tokenizer=CLIPTokenizer.from_pretrained(split / "tokenizer"),
        unet=UNet2DConditionModel.from_pretrained(split / "unet", **f32),
        motion_adapter=adapter,
        scheduler=DDIMScheduler.from_pretrained(split / "scheduler"),
    )
    pipe.set_progress_bar_config(disable=True)
    # AnimateDiff-Lightning's model card: Euler, trailing spacing, linear betas, guidance 1.
    pipe.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config, timestep_spacing="trailing", beta_schedule="linear")
    init = torch.randn((1, 4, FRAMES, 8, 8), generator=generator)
    result = pipe(prompt=PROMPT, num_frames=FRAMES, height=64, width=64, num_inference_steps=STEPS_LIGHTNING,
                  guidance_scale=1.0, latents=init.clone(), output_type="np")
    save_npy(folder / "golden", "init_latents", init)
    save_npy(folder / "golden", "video", result.frames[0].astype(np.float32))
    (folder / "golden" / "run.json").write_text(json.dumps({
        "file": LIGHTNING_FILE, "prompt": PROMPT, "frames": FRAMES, "height": 64, "width": 64,
        "steps": STEPS_LIGHTNING, "guidance": 1.0,
    }, indent=2))


def gradient_probes(grad: torch.Tensor) -> list:
    """A gradient's L2 norm and its dot products with two fixed sinusoids over its flat
    (row-major) elements, sin(0.7·i + 1.3·k + 0.1) for k = 1, 2: three numbers that change if
    any part of the gradient does, without storing megabytes of gradients."""
    flat = grad.detach().double().flatten()
    i = torch.arange(flat.numel(), dtype=torch.float64)
    return [flat.norm().item()] + [(flat * torch.sin(0.7 * i + 1.3 * k + 0.1)).sum().item() for k in (1, 2)]


def make_training_step(mid: Path) -> None:
    """One training step of the stored tiny-mid text encoder + UNet: two clips with their own
    timesteps (one with the empty prompt, as classifier-free training drops captions), the mean
    squared error of the UNet's output against a target, and every parameter's gradient probes."""
    generator = torch.Generator().manual_seed(4)
    f32 = dict(torch_dtype=torch.float32)
    text_encoder = CLIPTextModel.from_pretrained(mid / "text_encoder", **f32)
    unet = UNetMotionModel.from_pretrained(mid / "unet", **f32)
    tokenizer = CLIPTokenizer.from_pretrained(mid / "tokenizer")
    ids = tokenizer(["a red circle moving left on a black background", ""], padding="max_length", max_length=77,
                    truncation=True, return_tensors="pt").input_ids
    noisy = torch.randn((2, 4, FRAMES, 8, 8), generator=generator)
    target = torch.randn((2, 4, FRAMES, 8, 8), generator=generator)
    timesteps = torch.tensor([421.0, 37.0])
    states = text_encoder(ids)[0].repeat_interleave(FRAMES, dim=0)
    loss = ((unet(noisy, timesteps, encoder_hidden_states=states).sample - target) ** 2).mean()
    loss.backward()
    folder = mid / "golden" / "training"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    save_npy(folder, "token_ids", ids.to(torch.int64))
    save_npy(folder, "noisy", noisy)
    save_npy(folder, "target", target)
    save_npy(folder, "timesteps", timesteps)
    probes = {f"text_encoder/{k}": gradient_probes(p.grad) for k, p in text_encoder.named_parameters()}
    probes.update({f"unet/{k}": gradient_probes(p.grad) for k, p in unet.named_parameters() if p.grad is not None})
    (folder / "gradients.json").write_text(json.dumps({"loss": loss.item(), "probes": probes}, indent=0))


def make_zero_snr_schedule(path: Path) -> None:
    """The demo model's schedule since recipe v7: AnimateDiff's linear betas rescaled to zero
    terminal SNR, as diffusers' DDIM and Euler schedulers build it (Euler's last alpha_cumprod is
    2**-24, not 0, so its first sigma is finite)."""
    config = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="linear", prediction_type="v_prediction",
                  rescale_betas_zero_snr=True)
    ddim = DDIMScheduler(**config)
    euler = EulerDiscreteScheduler(**config, timestep_spacing="trailing")
    euler.set_timesteps(12)
    path.write_text(json.dumps({"ddim_alphas_cumprod": ddim.alphas_cumprod.tolist(),
                                "euler_sigmas_12_trailing": euler.sigmas.tolist()}))


def main() -> None:
    ROOT.mkdir(parents=True, exist_ok=True)
    tokenizer_dir = ROOT / "tokenizer"
    if tokenizer_dir.exists():
        shutil.rmtree(tokenizer_dir)
    tokenizer = make_tokenizer(tokenizer_dir)
    # ids_24: a tokenizer whose model_max_length is 24 (the demo model's) pads and cuts to that.
    cases = [{"prompt": p, "ids": tokenizer(p, padding="max_length", max_length=77, truncation=True).input_ids,
              "ids_24": tokenizer(p, padding="max_length", max_length=24, truncation=True).input_ids}
             for p in TOKENIZER_CASES]
    (ROOT / "tokenizer_cases.json").write_text(json.dumps(cases, ensure_ascii=False, indent=0))

    for name, build, tokenizer_json, seed in [("tiny-mid", build_mid, True, 1), ("tiny-split", build_split, False, 2)]:
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        parts = build(generator)
        folder = ROOT / name
        save_pipeline(folder, parts, tokenizer_dir, tokenizer_json)
        run_reference(folder, parts, tokenizer, generator)
        print(f"wrote {folder}")
    shutil.rmtree(tokenizer_dir)
    make_lightning(ROOT / "tiny-split")
    print(f"wrote {ROOT / 'tiny-split' / 'lightning'}")
    make_zero_snr_schedule(ROOT / "zero_snr_schedule.json")
    print(f"wrote {ROOT / 'zero_snr_schedule.json'}")
    make_training_step(ROOT / "tiny-mid")
    print(f"wrote {ROOT / 'tiny-mid' / 'golden' / 'training'}")


if __name__ == "__main__":
    main()

"""Checks that a model folder written by `freenoise-demo train` (a checkpoint's `model/`, or the f16
export) loads in diffusers itself and makes a clip, and that the engine and diffusers agree on
it: the same seeded initial latents through both give the same video.

Run from the repo root:  python3 demo/probes/check_trained_loads.py MODEL_DIR [ENGINE_BIN]
ENGINE_BIN defaults to the engine CLI in $CARGO_TARGET_DIR (~/.cache/freenoise/target) built by
`cargo build -p engine --profile native-release --bin freenoise`. Exits non-zero on a failure.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

from diffusers import AnimateDiffPipeline  # noqa: E402

PROMPT = "a red circle moving left on a black background"
FRAMES, SIZE, STEPS, GUIDANCE = 16, 64, 4, 5.0
# End-to-end tolerance of the project (relative L2, f32).
TOLERANCE = 1e-3


def main():
    model = Path(sys.argv[1])
    target = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/freenoise/target"))
    engine = Path(sys.argv[2]) if len(sys.argv) > 2 else target / "native-release/freenoise"
    pipe = AnimateDiffPipeline.from_pretrained(model, torch_dtype=torch.float32)
    print(f"diffusers loaded {model}: unet {type(pipe.unet).__name__}, vae {type(pipe.vae).__name__}, "
          f"text encoder {type(pipe.text_encoder).__name__}, scheduler {type(pipe.scheduler).__name__}")
    channels = pipe.unet.config.in_channels
    scale = 2 ** (len(pipe.vae.config.block_out_channels) - 1)
    latents = torch.randn((1, channels, FRAMES, SIZE // scale, SIZE // scale), generator=torch.Generator().manual_seed(7))
    video = pipe(PROMPT, num_frames=FRAMES, height=SIZE, width=SIZE, num_inference_steps=STEPS,
                 guidance_scale=GUIDANCE, latents=latents.clone(), output_type="np").frames[0]
    video = np.asarray(video, dtype=np.float32)
    assert video.shape == (FRAMES, SIZE, SIZE, 3), video.shape
    assert np.isfinite(video).all() and video.std() > 0.01, "diffusers made a flat or broken clip"
    with tempfile.TemporaryDirectory() as tmp:
        init = Path(tmp) / "init.npy"
        out = Path(tmp) / "video.npy"
        np.save(init, latents.numpy().astype(np.float32))
        subprocess.run([str(engine), "generate", "--model", str(model), "--prompt", PROMPT,
                        "--frames", str(FRAMES), "--height", str(SIZE), "--width", str(SIZE),
                        "--steps", str(STEPS), "--guidance", str(GUIDANCE), "--freenoise", "off",
                        "--init-latents", str(init), "--save-video", str(out)], check=True)
        ours = np.load(out)
    error = float(np.linalg.norm(ours - video) / np.linalg.norm(video))
    print(json.dumps({"model": str(model), "relative_l2_engine_vs_diffusers": error}))
    if error > TOLERANCE:
        sys.exit(f"the engine and diffusers disagree on {model}: relative L2 {error:.2e} > {TOLERANCE}")


if __name__ == "__main__":
    main()

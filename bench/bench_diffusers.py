"""Times diffusers' AnimateDiffPipeline on a fixture model: the reference side of bench/cli_vs_diffusers.sh.

Same work as the CLI run: same model, prompt, frames, size, steps, guidance, sampler; CPU, one
thread each (the engine's CPU backend runs single-threaded here too). Prints seconds per run.
"""

import argparse
import time

import torch

torch.set_num_threads(1)

from diffusers import AnimateDiffPipeline, DDIMScheduler  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
parser.add_argument("--frames", type=int, required=True)
parser.add_argument("--size", type=int, required=True)
parser.add_argument("--steps", type=int, required=True)
parser.add_argument("--repeats", type=int, default=3)
args = parser.parse_args()

pipe = AnimateDiffPipeline.from_pretrained(args.model)
pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config)
pipe.set_progress_bar_config(disable=True)
times = []
for _ in range(args.repeats):
    start = time.perf_counter()
    pipe(prompt="a red fox running through snow", negative_prompt="blurry", num_frames=args.frames,
         height=args.size, width=args.size, num_inference_steps=args.steps, guidance_scale=7.5,
         generator=torch.Generator().manual_seed(0), output_type="np")
    times.append(time.perf_counter() - start)
print(f"diffusers_seconds {min(times):.3f}")

"""Which caption words a training run's checkpoint uses: a progress signal between held-out
evaluations, which stay at chance until the model follows captions.

For single-object clips of the run's clip pool (real training latents, captions listed beside
the pool in `latent_pool.txt`), the clean clip is noised to a few timesteps and estimated from
the UNet's prediction twice: with the true caption, and with one word changed (the colour, the
direction of motion, or the background). A model that uses a word estimates the clip worse with
the wrong one; the printout is how much worse, in percent of the true caption's error, averaged
over clips. Near 0% means the word is ignored.

One more row changes no word but the frame order: the noisy clip's frames go in shuffled (and the
estimate is put back in order). A model whose motion modules do nothing is unaffected; one that
has learnt how objects move from frame to frame estimates much worse.

Run from the repo root:  python3 demo/probes/word_probe.py RUN_FOLDER [CLIPS]
"""

import json
import re
import sys
from pathlib import Path

import numpy as np
import torch
from diffusers import DDIMScheduler, UNetMotionModel
from transformers import CLIPTextModel, CLIPTokenizer

torch.set_num_threads(1)
FRAMES = 16  # the data set's clip length
# Since zero terminal SNR (recipe v7), t = 999 is the caption alone and sampling's first steps
# (999, 908, 817) settle an object's colour and path; the middle of the schedule shows where a
# word stops mattering because the noisy clip shows what it says (stop 24: the torus model uses
# its direction word's sign only around t = 800).
TIMESTEPS = (999, 900, 800, 700, 600, 400, 200)
COLOURS = "red orange yellow green blue purple pink".split()
OPPOSITE = {"left": "right", "right": "left", "up": "down", "down": "up", "up and left": "down and right",
            "down and right": "up and left", "up and right": "down and left", "down and left": "up and right"}
DIRECTION = re.compile(r"moving (up and left|up and right|down and left|down and right|left|right|up|down) on")


def other_colour(caption):
    return re.sub(r"^a (\w+)", lambda m: "a " + COLOURS[(COLOURS.index(m.group(1)) + 3) % len(COLOURS)], caption)


def opposite_direction(caption):
    return DIRECTION.sub(lambda m: f"moving {OPPOSITE[m.group(1)]} on", caption)


def other_background(caption):
    if "black background" in caption:
        return caption.replace("black background", "white background")
    return re.sub(r"on a \w+ background$", "on a black background", caption)


CHANGES = {"colour": other_colour, "direction": opposite_direction, "background": other_background}


def main(run, clips):
    torch.manual_seed(0)
    model = run / "model"
    tokenizer = CLIPTokenizer.from_pretrained(model / "tokenizer")
    # f32 whatever the folder holds: a shipped model is stored in f16.
    text_encoder = CLIPTextModel.from_pretrained(model / "text_encoder").float()
    unet = UNetMotionModel.from_pretrained(model / "unet").float()
    scheduler = DDIMScheduler.from_pretrained(model / "scheduler")
    v_prediction = scheduler.config.prediction_type == "v_prediction"
    channels = json.loads((model / "vae" / "config.json").read_text())["latent_channels"]
    size = unet.config.sample_size
    per_clip = channels * FRAMES * size * size
    captions = (run / "latent_pool.txt").read_text().splitlines()
    # Single moving objects only: the changes above are unambiguous for them.
    chosen = [i for i, c in enumerate(captions) if " and a " not in c and DIRECTION.search(c)][:clips]
    pool = np.memmap(run / "latent_pool.f32", dtype=np.float32, mode="r")
    worse = {name: {t: [] for t in TIMESTEPS} for name in [*CHANGES, "frame order"]}
    shuffle = torch.randperm(FRAMES)
    with torch.no_grad():
        for i in chosen:
            x0 = torch.from_numpy(np.array(pool[i * per_clip:(i + 1) * per_clip])).reshape(1, channels, FRAMES, size, size)
            texts = [captions[i]] + [change(captions[i]) for change in CHANGES.values()]
            ids = tokenizer(texts, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                            return_tensors="pt").input_ids
            states = text_encoder(ids).last_hidden_state
            for t in TIMESTEPS:
                a = scheduler.alphas_cumprod[t]
                noisy = a.sqrt() * x0 + (1 - a).sqrt() * torch.randn_like(x0)

                def error(out):
                    """Mean squared error of the clean clip the prediction implies."""
                    estimate = a.sqrt() * noisy - (1 - a).sqrt() * out if v_prediction else (noisy - (1 - a).sqrt() * out) / a.sqrt()
                    return ((estimate - x0) ** 2).mean().item()

                errors = []
                for j in range(len(texts)):
                    out = unet(noisy, t, encoder_hidden_states=states[j:j + 1].repeat(FRAMES, 1, 1)).sample
                    errors.append(error(out))
                out = unet(noisy[:, :, shuffle], t, encoder_hidden_states=states[:1].repeat(FRAMES, 1, 1)).sample
                errors.append(error(out[:, :, torch.argsort(shuffle)]))
                for name, error in zip(worse, errors[1:]):
                    worse[name][t].append(error / errors[0] - 1)
    print(f"{len(chosen)} single-object clips; error with one word changed (or the frames shuffled), relative to the true caption:")
    for name, by_t in worse.items():
        print(f"  {name:<11} " + "  ".join(f"t={t}: {100 * np.mean(v):+.1f}%" for t, v in by_t.items()))


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) == 3 else 12)

"""How much a trained demo-model checkpoint listens to its caption: a progress signal for a
training run that needs no sampling. The held-out evaluation (`freenoise-demo evaluate`) only
says "chance level" until the model follows captions; this says whether it is starting to.

Prints, for two captions that differ in colour, shape, motion and background (and the empty
caption): how far apart the text encoder's hidden states are, and how far apart the model's
estimates of the clean clip (x0, from its epsilon or v prediction) are for the same noisy
latents at several timesteps (relative L2). A UNet that ignores its caption moves its estimate
by a fraction of a percent; one that follows it by several percent at the high-noise steps,
where colour and position are decided.

Run from the repo root:  python3 demo/probes/caption_sensitivity.py MODEL_DIR
"""

import sys

import torch
from diffusers import DDIMScheduler, UNetMotionModel
from transformers import CLIPTextModel, CLIPTokenizer

CAPTIONS = ["a red circle moving left on a black background", "a blue square moving down on a white background", ""]
FRAMES, LATENT = 16, 16
TIMESTEPS = [999, 700, 400, 100]


def relative(a, b):
    return ((a - b).norm() / a.norm()).item()


def main(model):
    torch.manual_seed(0)
    tokenizer = CLIPTokenizer.from_pretrained(f"{model}/tokenizer")
    text_encoder = CLIPTextModel.from_pretrained(f"{model}/text_encoder")
    unet = UNetMotionModel.from_pretrained(f"{model}/unet")
    scheduler = DDIMScheduler.from_pretrained(f"{model}/scheduler")
    prediction = scheduler.config.prediction_type
    ids = tokenizer(CAPTIONS, padding="max_length", max_length=tokenizer.model_max_length, return_tensors="pt").input_ids
    with torch.no_grad():
        states = text_encoder(ids).last_hidden_state
        print(f"text states: captions {relative(states[0], states[1]):.3f} apart, caption vs empty {relative(states[0], states[2]):.3f}")
        latents = torch.randn(1, unet.config.in_channels, FRAMES, LATENT, LATENT)
        for t in TIMESTEPS:
            a = scheduler.alphas_cumprod[t]
            x0 = []
            for i in range(3):
                out = unet(latents, t, encoder_hidden_states=states[i : i + 1].repeat(FRAMES, 1, 1)).sample
                x0.append(a.sqrt() * latents - (1 - a).sqrt() * out if prediction == "v_prediction" else (latents - (1 - a).sqrt() * out) / a.sqrt())
            print(f"t={t}: clean-clip estimates {relative(x0[0], x0[1]):.4f} apart, caption vs empty {relative(x0[0], x0[2]):.4f} ({prediction})")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])

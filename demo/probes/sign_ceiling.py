"""How much could a perfect denoiser gain from the direction word's sign, at each noise level?
A sketch for `docs/demo-model-history.md` (Next, stop 25), in the manner of `torus_worth.py`: one white
disc (with its comet ghosts) on black, moving right or left, drawn on the latent grid (16×16,
the 64-px data set divided by 4) and scaled to unit variance as the latents are.

For a caption's sign the data set is a finite family of clips (phases along the line, offsets
across it, radii). Given a noisy clip x_t = √ā·x0 + √(1-ā)·ε, the Bayes-optimal clean-clip
estimate under sign s is the posterior mean over the family of sign s. The printout is how much
worse the estimate gets when the sign is the opposite of the true one, in percent of the clip's
squared distance from the mean of all clips (so a finite family, which a perfect denoiser pins
down exactly at low noise, does not divide by an error near 0). Near 0% at a noise level means
no model can use the sign there; sampling (DDIM 12: 999, 908, 817, ...) settles an object's path
around t = 900-800, and `word_probe.py` measures what a trained UNet makes of it.

The opposite sign is the worst case. What training rewards is the second printout: the error
of the best estimate that does not know the sign (the posterior over both families) less the
error of the one that does, in the same unit. That is the most any loss can gain from reading
the caption's sign at that noise level.

Placements: the shipped data set's centred paths (recipe v8), the random-phase torus with the
three-ghost comet (recipe v9) and with six ghosts (stop 25's `demo-run15`), a half-and-half
mixture of centred and torus movers, and the two-phase torus (recipe v10: one lap per 8
frames, starting at the centre of the line or half a lap from it).

Run:  python3 demo/probes/sign_ceiling.py
"""

import numpy as np

SIZE, FRAMES, SUPER = 16, 16, 4
TIMESTEPS = (999, 900, 800, 700, 600)
RADII = (6.5 / 4, 8.25 / 4, 10 / 4)
ACROSS = np.linspace(-1.5, 1.5, 4)  # 6 px either side of the centre line, on the latent grid
TRUE_CLIPS, NOISE_DRAWS = 48, 2


def alphas_cumprod():
    """AnimateDiff's linear betas rescaled to zero terminal SNR (the demo model's schedule)."""
    betas = np.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=np.float64) ** 2
    root = np.sqrt(np.cumprod(1 - betas))
    root = (root - root[-1]) * root[0] / (root[0] - root[-1])
    return root ** 2


def disc(x, y, radius, wrap):
    """Coverage of a disc on the grid (SUPER² samples a pixel), on a torus when `wrap`."""
    s = (np.arange(SIZE * SUPER) + 0.5) / SUPER
    dx, dy = s[None, :] - x, s[:, None] - y
    if wrap:
        dx, dy = (dx + SIZE / 2) % SIZE - SIZE / 2, (dy + SIZE / 2) % SIZE - SIZE / 2
    inside = (dx ** 2 + dy ** 2 < radius ** 2).astype(np.float32)
    return inside.reshape(SIZE, SUPER, SIZE, SUPER).mean(axis=(1, 3))


def comet(x_of, y, radius, ghosts, spacing, wrap):
    """One clip: the disc at x_of(f) and `ghosts` shrinking ones behind it (the data set's comet)."""
    frames = []
    for f in range(FRAMES):
        frame = disc(x_of(f), y, radius, wrap)
        for k in range(1, ghosts + 1):
            ghost = disc(x_of(f - spacing * k), y, radius * (1 - 0.6 * k / ghosts), wrap)
            frame = np.maximum(frame, ghost)
        frames.append(frame)
    return np.stack(frames)


def family(placement, sign):
    """Every clip of one sign that the placement can draw, on a grid of its random draws."""
    clips = []
    centre = SIZE / 2
    for radius in RADII:
        for across in ACROSS:
            if placement == "centred":
                for speed in np.linspace(1.5 / 4, 2.1 / 4, 3):  # 1.5-2.1 px a frame
                    for along in np.linspace(-0.5, 0.5, 3):  # midpoint within 2 px along
                        start = centre + along - sign * speed * (FRAMES - 1) / 2
                        # Ghosts 2.5 frames apart, three of them (recipe v6's comet).
                        clips.append(comet(lambda f: start + sign * speed * f, centre + across, radius, 3, 2.5, False))
            elif placement == "torus, two phases":
                for phase in (0, SIZE / 2):  # one lap per 8 frames: 2 px a frame
                    # Ghosts 2.5 frames × (1.8 px / 8 px) apart (the data set's torus_trail_time).
                    clips.append(comet(lambda f: centre + sign * (phase + 2 * f), centre + across, radius, 3, 2.5 * 1.8 / 8, True))
            else:
                ghosts = 6 if placement == "torus, six ghosts" else 3
                for phase in range(SIZE):  # one lap (SIZE px) per FRAMES frames: 1 px a frame
                    # Ghosts 0.45 × 2.5 frames apart on the torus (the data set's TORUS_TRAIL_TIME).
                    clips.append(comet(lambda f: phase + sign * f, centre + across, radius, ghosts, 0.45 * 2.5, True))
    return np.stack(clips).reshape(len(clips), -1)


def posterior_mean(noisy, clips, a):
    logits = -((noisy[None, :] - np.sqrt(a) * clips) ** 2).sum(axis=1) / (2 * (1 - a))
    weights = np.exp(logits - logits.max())
    return weights @ clips / weights.sum()


def worth(placement, rng, alphas):
    if placement == "half centred, half torus":
        fam = {s: np.concatenate([family("centred", s), family("torus, three ghosts", s)]) for s in (1, -1)}
    else:
        fam = {s: family(placement, s) for s in (1, -1)}
    scale = np.concatenate(list(fam.values())).std()
    fam = {s: c / scale for s, c in fam.items()}
    both = np.concatenate(list(fam.values()))
    mean = both.mean(axis=0)
    opposite, unknown = {}, {}
    for t in TIMESTEPS:
        a = alphas[t]
        wrongs, unknowns = [], []
        for _ in range(TRUE_CLIPS):
            sign = rng.choice((1, -1))
            x0 = fam[sign][rng.integers(len(fam[sign]))]
            for _ in range(NOISE_DRAWS):
                noisy = np.sqrt(a) * x0 + np.sqrt(1 - a) * rng.standard_normal(x0.shape)
                error = lambda estimate: ((estimate - x0) ** 2).sum() / ((x0 - mean) ** 2).sum()
                right = error(posterior_mean(noisy, fam[sign], a))
                wrongs.append(error(posterior_mean(noisy, fam[-sign], a)) - right)
                unknowns.append(error(posterior_mean(noisy, both, a)) - right)
        opposite[t], unknown[t] = 100 * np.mean(wrongs), 100 * np.mean(unknowns)
    return opposite, unknown


def main():
    alphas = alphas_cumprod()
    rng = np.random.default_rng(0)
    rows = {}
    for placement in ("centred", "torus, three ghosts", "torus, six ghosts", "half centred, half torus", "torus, two phases"):
        rows[placement] = worth(placement, rng, alphas)
    for i, what in enumerate(("with the opposite sign", "not knowing the sign")):
        print(f"extra error of the best estimate {what}, in % of the clip's distance from the mean clip:")
        for placement, row in rows.items():
            print(f"  {placement:<26} " + "  ".join(f"t={t}: {v:+.1f}%" for t, v in row[i].items()))


if __name__ == "__main__":
    main()

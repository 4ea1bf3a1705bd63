"""How much of a straight-line mover's pixels the direction word predicts on its own, for the two
placements of `demo/src/dataset` (recipe v8's reason to centre paths; `docs/demo-model-history.md`, stop 20).

With zero terminal SNR the UNet's estimate at t = 999 is the caption's mean clip, and sampling
follows the path that mean suggests. Here each clip is a white disc on black moving one of the
eight directions (radius, speed and start drawn as the data set draws them); the printout is the
share of the squared error around the mean of all movers that the mean of the clip's own
direction removes. A sketch: colours, shapes, trails and backgrounds are left out.

Run:  python3 demo/probes/placement_worth.py
"""

import numpy as np

SIZE, FRAMES, PER_DIRECTION = 64, 16, 60
D = 1 / np.sqrt(2)
DIRECTIONS = [(-1, 0), (1, 0), (0, -1), (0, 1), (-D, -D), (D, -D), (-D, D), (D, D)]
ACROSS, ALONG = 6.0, 2.0  # `CENTRED_ACROSS`, `CENTRED_ALONG`


def clip(rng, direction, centred):
    radius, speed = rng.uniform(6.5, 10), rng.uniform(1.5, 2.1)
    margin = radius * 1.5 + 1
    low, high, travel = margin, SIZE - margin, speed * (FRAMES - 1)
    dx, dy = direction
    if centred:
        across, along = rng.uniform(-ACROSS, ACROSS), rng.uniform(-ALONG, ALONG) - travel / 2
        x, y = SIZE / 2 + dx * along - dy * across, SIZE / 2 + dy * along + dx * across
    else:
        def start(delta):
            a, b = (low, high - delta) if delta >= 0 else (low - delta, high)
            return rng.uniform(a, max(a, b))
        x, y = start(dx * travel), start(dy * travel)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    frames = [((xx - x - dx * speed * f) ** 2 + (yy - y - dy * speed * f) ** 2 < radius ** 2) for f in range(FRAMES)]
    return np.stack(frames).astype(np.float32)


def main():
    for centred in (False, True):
        rng = np.random.default_rng(0)
        clips = [np.stack([clip(rng, d, centred) for _ in range(PER_DIRECTION)]) for d in DIRECTIONS]
        mean = np.concatenate(clips).mean(0)
        apart = sum(((c - mean) ** 2).sum() for c in clips)
        within = sum(((c - c.mean(0)) ** 2).sum() for c in clips)
        name = "centred" if centred else "spread"
        print(f"{name:8} the direction's own mean removes {100 * (1 - within / apart):.1f}% of the error")


if __name__ == "__main__":
    main()

"""Would wrap-around movers let FreeNoise make a coherent 64-frame clip? A sketch of the data
decision in `docs/demo-model-history.md` (Next), in the manner of `placement_worth.py`: white discs on black,
the eight directions, no colours, shapes, trails or backgrounds.

Two numbers per placement:
- worth: the share of a mover's squared pixel error (around the mean of all movers) that the
  mean clip of its own direction removes. With zero terminal SNR the first sampling step is the
  caption's mean clip, so this is how much the direction word can steer (centred paths: 45%,
  spread: 16%, and only centred paths ever taught our UNet the word).
- window clash: FreeNoise fuses 13 overlapping 16-frame windows (stride 4, pyramid weights) of a
  64-frame clip, and every window starts its frame count at 0. If each window's first estimate is
  the mean clip, the share of those estimates' energy (around the all-mover mean) that fusion
  averages away. 0 when a window shifted by 4 frames wants what the clip already shows there;
  high when the windows draw the object in different places (ghosts, then no steady path).

Placements: the current data set's (centred and spread paths inside the frame, 1.5-2.1 px a
frame) and four on a torus (the object wraps at the edges), three of them one lap of 64 px per
16 frames so that a clip repeats every 16 frames as FreeNoise's rescheduled noise does:
- torus, centred: the object at the frame's centre at a clip's first frame;
- torus, random phase: anywhere along its line at the first frame;
- torus, quarter phase: at the centre or a quarter, half or three quarters of a lap along it. A
  window 4 frames later is a quarter lap further, so every window's mean clip agrees;
- torus, 4-frame lap: centred at the first frame, one lap per 4 frames (16 px a frame), so a
  window 4 frames later starts where the clip is anyway;
- torus, two phases (recipe v10): one lap per 8 frames (8 px a frame), at the centre or half a
  lap along at the first frame. A window 4 frames later is half a lap further, which swaps the
  two phases, so every window's mean clip agrees, and that mean is two blobs, not a band.

Run:  python3 demo/probes/torus_worth.py
"""

import numpy as np

import placement_worth
from placement_worth import ACROSS, DIRECTIONS, FRAMES, SIZE

LONG, STRIDE, PER_DIRECTION = 64, 4, 200


def disc(x, y, radius):
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    dx, dy = xx - x, yy - y
    dx, dy = (dx + SIZE / 2) % SIZE - SIZE / 2, (dy + SIZE / 2) % SIZE - SIZE / 2
    return (dx ** 2 + dy ** 2 < radius ** 2).astype(np.float32)


def clip(rng, direction, placement):
    if placement in ("centred", "spread"):
        return placement_worth.clip(rng, direction, placement == "centred")
    radius = rng.uniform(6.5, 10)
    dx, dy = direction
    across = rng.uniform(-ACROSS, ACROSS)
    # On the torus a diagonal moves a lap along both axes, so its speed per axis is the lap speed.
    lap_frames = {"torus, 4-frame lap": STRIDE, "torus, two phases": 2 * STRIDE}.get(placement, FRAMES)
    vx, vy = np.sign(np.round(dx, 3)) * SIZE / lap_frames, np.sign(np.round(dy, 3)) * SIZE / lap_frames
    laps = {"torus, random phase": rng.uniform(0, 1), "torus, quarter phase": rng.integers(4) / 4}.get(placement, 0.0)
    if placement == "torus, two phases":
        laps = rng.integers(2) / 2
    x = SIZE / 2 + SIZE * np.sign(vx) * laps - dy * across
    y = SIZE / 2 + SIZE * np.sign(vy) * laps + dx * across
    return np.stack([disc(x + vx * f, y + vy * f, radius) for f in range(FRAMES)])


def pyramid():
    half = np.arange(1, FRAMES // 2 + 1, dtype=np.float32)
    return np.concatenate([half, half[::-1]])


def window_clash(mean, overall):
    """Share of the windows' mean-clip energy that fusing them over a LONG-frame clip cancels."""
    w, starts = pyramid(), range(0, LONG - FRAMES + 1, STRIDE)
    value = np.zeros((LONG, SIZE, SIZE), np.float32)
    count = np.zeros(LONG, np.float32)
    for s in starts:
        value[s:s + FRAMES] += mean * w[:, None, None]
        count[s:s + FRAMES] += w
    fused = value / count[:, None, None]
    lost = sum((w[:, None, None] * (mean - fused[s:s + FRAMES]) ** 2).sum() for s in starts)
    energy = sum((w[:, None, None] * (mean - overall) ** 2).sum() for s in starts)
    return lost / energy


def main():
    for placement in ("centred", "spread", "torus, centred", "torus, random phase", "torus, quarter phase",
                      "torus, 4-frame lap", "torus, two phases"):
        rng = np.random.default_rng(0)
        clips = [np.stack([clip(rng, d, placement) for _ in range(PER_DIRECTION)]) for d in DIRECTIONS]
        overall = np.concatenate(clips).mean(0)
        means = [c.mean(0) for c in clips]
        apart = sum(((c - overall) ** 2).sum() for c in clips)
        within = sum(((c - m) ** 2).sum() for c, m in zip(clips, means))
        clash = np.mean([window_clash(m, overall.mean(0)) for m in means])
        print(f"{placement:21} worth {100 * (1 - within / apart):5.1f}%   window clash {100 * clash:5.1f}%")


if __name__ == "__main__":
    main()

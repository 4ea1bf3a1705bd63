// The semantic check in the page: a held-out prompt (a colour × shape × motion
// combination training never showed) generated on WebGPU, its frames
// read back from the player and judged by the same clip analyser as the native checks
// (`engine/tests/demo_model.rs`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { serveDirectory } from './support/server.mjs';
import { analyseFrames, nativeAnalysis } from './support/reference.mjs';
import { withPage } from './support/session.mjs';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
// The first held-out prompt at the trained length and the page's guidance (3), in 6 DDIM steps
// instead of the page's 12: SwiftShader's WebGPU emulates the GPU on the CPU at ~50 s a step
// here, so 12 steps would take ~11 minutes. The native test holds the bars at 12 steps; this one
// checks that the page's clip means what the engine's does. Why 6: the torus models' clips
// at 4 steps travel unsteadily (native readings of seeds 0-5 at 4 steps: run23 at step 1580
// 3 left and 3 right, consistency down to 0.33; run23 at step 2400 reads seed 0, this
// test's, as right at 0.73), where rounding could flip the reading; at 6 steps all six
// travel left for both, and for the shipped model (run25's checkpoints 250–1000 averaged),
// all red (consistency 1.0; stop 36).
const REQUEST = { prompt: 'a red circle moving left on a black background', frames: 16, steps: 6, seed: 0 };
const COLOUR = 'red';

let server;
before(async () => { server = await serveDirectory(DIST); });
after(() => server?.close());

test('a held-out prompt generated in the page shows its colour and moves as the native clip does', async (t) => {
  const native = nativeAnalysis(REQUEST);
  await withPage(server.url, { webgpu: true }, async (page) => {
    await page.start(REQUEST);
    const status = await page.waitForEnd(600_000);
    assert.match(status, /^Done/, `status line: ${status}`);
    const frames = [];
    for (let i = 0; i < REQUEST.frames; i += 1) frames.push(await page.framePixels(i));
    const seen = analyseFrames(frames);
    t.diagnostic(`page ${JSON.stringify(seen)}; native ${JSON.stringify(native)}`);
    assert.equal(seen.colour, COLOUR, `the page's clip reads as ${JSON.stringify(seen)}`);
    assert.ok(seen.visible >= 0.9, `the object is seen in ${seen.visible * 100}% of the frames`);
    // WebGPU and the CPU differ by rounding only: the clips must mean the same.
    assert.equal(seen.direction, native.direction, `page ${JSON.stringify(seen)}, native ${JSON.stringify(native)}`);
  });
});

// The page end to end: built page → Leptos → Web Worker → engine on WebGPU → clip in a canvas,
// checked against the native engine's output for the same request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { serveDirectory } from './support/server.mjs';
import { ARTIFACTS } from './support/browser.mjs';
import { nativeClip } from './support/reference.mjs';
import { withPage } from './support/session.mjs';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const REQUEST = { prompt: 'a red circle moving left on a black background', frames: 8, steps: 2, seed: 3 };
// WebGPU (SwiftShader) and the native CPU backend differ by float rounding only; through the
// model and 8-bit quantisation that moves a channel by a few steps at most.
const MAX_CHANNEL_DIFF = 4;
const MAX_MEAN_DIFF = 0.5;

let server;
let native;
before(async () => {
  server = await serveDirectory(DIST);
  native = nativeClip(REQUEST);
});
after(() => server?.close());

function compareFirstFrame(pixels) {
  assert.equal(pixels.width, native.width);
  assert.equal(pixels.height, native.height);
  const frameSize = native.width * native.height * 3;
  const diffs = pixels.rgb.map((v, i) => Math.abs(v - native.rgb[i]));
  assert.equal(diffs.length, frameSize);
  const worst = Math.max(...diffs);
  const mean = diffs.reduce((a, b) => a + b, 0) / diffs.length;
  assert.ok(worst <= MAX_CHANNEL_DIFF, `worst channel difference ${worst}/255`);
  assert.ok(mean <= MAX_MEAN_DIFF, `mean channel difference ${mean}/255`);
}

function spread(values) {
  return Math.max(...values) - Math.min(...values);
}


test('Generate runs the model on WebGPU in a worker and plays the clip', async () => {
  await withPage(server.url, { webgpu: true }, async (page) => {
    await page.start(REQUEST);
    // The engine runs in a worker: the prompt box keeps accepting typing meanwhile.
    await page.prompt.pressSequentially(' at dawn');
    assert.equal(await page.prompt.inputValue(), `${REQUEST.prompt} at dawn`);
    const status = await page.waitForEnd();
    // The precision is shown: f32 here, as SwiftShader's adapter has no shader-f16.
    const f16 = await page.page.evaluate(async () => (await navigator.gpu.requestAdapter()).features.has('shader-f16'));
    assert.match(status, new RegExp(`^Done .* on WebGPU \\(${f16 ? 'f16' : 'f32'}\\)`), `status line: ${status}`);
    assert.equal(await page.frameCount(), REQUEST.frames);
    const first = await page.framePixels(0);
    const later = await page.framePixels(REQUEST.frames - 1);
    assert.ok(spread(first.rgb) > 20, 'the first frame is not a flat colour');
    assert.notDeepEqual(first.rgb, later.rgb, 'the clip is not one still frame');
    compareFirstFrame(first);
    await page.page.screenshot({ path: `${ARTIFACTS}/generate-webgpu.png` });
  });
});

test('Without WebGPU the page says so and falls back to the CPU', async () => {
  await withPage(server.url, { webgpu: false }, async (page) => {
    await page.start(REQUEST);
    const status = await page.waitForEnd();
    assert.match(status, /on the CPU/, `status line: ${status}`);
    assert.match(status, /WebGPU/, 'the status line names what is missing');
    compareFirstFrame(await page.framePixels(0));
  });
});

test('An empty prompt cannot be generated and the page says why', async () => {
  await withPage(server.url, { webgpu: true }, async (page) => {
    assert.equal(await page.generate.isDisabled(), true);
    await page.prompt.fill('   ');
    assert.equal(await page.generate.isDisabled(), true);
    assert.equal(await page.page.getByText('Enter a prompt to generate.').isVisible(), true);
    await page.prompt.fill('a cat');
    assert.equal(await page.generate.isDisabled(), false);
  });
});

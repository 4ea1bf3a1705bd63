// The controls around generation: progress with a live preview, Cancel, and validation as the
// user types. The bundled demo model on the CPU fallback, with few frames and steps, keeps these quick.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { serveDirectory } from './support/server.mjs';
import { withPage } from './support/session.mjs';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));

let server;
before(async () => { server = await serveDirectory(DIST); });
after(() => server?.close());


test('Progress shows step i/N with timings and a live preview, then the clip plays', async () => {
  await withPage(server.url, { webgpu: false }, async (page) => {
    await page.start({ prompt: 'a red circle moving left', frames: 8, steps: 10, seed: 1 });
    await page.waitForStep(2);
    assert.equal(await page.progress.getAttribute('max'), '10');
    const text = await page.page.locator('.progress-text').textContent();
    assert.match(text, /^Step \d+\/10 · [\d.]+ s elapsed · about \d+ s left$/);
    // A preview every 2 steps (steps / 5): frames at latent resolution (64 px / 4, the demo VAE's scale).
    await page.page.waitForFunction(() => document.querySelector('canvas[aria-label="Preview"]')?.dataset.frameCount === '8');
    assert.equal(await page.preview.evaluate((c) => c.width), 16);
    const status = await page.waitForEnd();
    assert.match(status, /^Done /, status);
    assert.equal(await page.frameCount(), 8);
    assert.equal(await page.progress.isVisible(), false, 'the bar goes away when done');
  });
});

test('Cancel stops within a step, and the next clip still generates', async () => {
  await withPage(server.url, { webgpu: false }, async (page) => {
    await page.start({ prompt: 'a blue square moving up', frames: 8, steps: 200, seed: 2 });
    await page.waitForStep(1);
    await page.cancel.click();
    const status = await page.waitForEnd(60_000);
    const match = status.match(/^Cancelled after step (\d+)\.$/);
    assert.ok(match, `status line: ${status}`);
    assert.ok(Number(match[1]) < 20, `stopped at step ${match[1]} of 200`);
    assert.equal(await page.generate.isDisabled(), false);
    await page.start({ prompt: 'a blue square moving up', frames: 8, steps: 2, seed: 2 });
    assert.match(await page.waitForEnd(), /^Done /);
  });
});

test('Settings are checked as the user types, with the reason shown', async () => {
  await withPage(server.url, { webgpu: false }, async (page) => {
    await page.prompt.fill('a green star spinning');
    assert.equal(await page.generate.isDisabled(), false);
    await page.advanced.click();
    await page.stride.fill('20');
    assert.ok((await page.problems()).some((p) => /stride must be between 1 and the window \(16\)/.test(p)), await page.problems());
    assert.equal(await page.generate.isDisabled(), true);
    await page.stride.fill('4');
    await page.frames.fill('0');
    assert.ok((await page.problems()).some((p) => /Frames must be between 1/.test(p)));
    await page.frames.fill('32');
    await page.page.getByRole('button', { name: 'Add keyframe' }).click();
    assert.ok((await page.problems()).some((p) => /empty/.test(p)), await page.problems());
    await page.page.getByRole('textbox', { name: 'Description from this frame' }).fill('a green star moving up');
    assert.deepEqual(await page.problems(), []);
    assert.equal(await page.generate.isDisabled(), false);
    // The dice button fills in a concrete random seed.
    await page.page.getByRole('button', { name: 'Random seed' }).click();
    assert.match(await page.seed.inputValue(), /^\d+$/);
  });
});

test('The sampler setting reaches the engine: Euler makes another clip than the model\'s DDIM', async () => {
  await withPage(server.url, { webgpu: false }, async (page) => {
    const clip = { prompt: 'a red circle moving left', frames: 4, steps: 2, seed: 3 };
    await page.start(clip);
    assert.match(await page.waitForEnd(), /^Done /);
    const ddim = await page.framePixels(0);
    await page.advanced.click();
    assert.equal(await page.sampler.inputValue(), 'model', "the model's own scheduler by default");
    assert.equal(await page.page.getByRole('combobox', { name: 'Weighting' }).inputValue(), 'flat',
      "the demo model's FreeNoise weighting (demo::settings::WEIGHTING) by default");
    await page.sampler.selectOption({ label: 'Euler, trailing' });
    await page.start(clip);
    assert.match(await page.waitForEnd(), /^Done /);
    const euler = await page.framePixels(0);
    assert.equal(euler.rgb.length, ddim.rgb.length);
    assert.notDeepEqual(euler.rgb, ddim.rgb, 'the same seed through another sampler');
  });
});

// What the GPU cannot do: a request larger than the device's per-buffer cap is refused before
// any work, naming the limit; a GPU device lost mid-run ends in a message, and Generate then
// works again with a fresh generator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { serveDirectory } from './support/server.mjs';
import { withPage } from './support/session.mjs';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));

let server;
before(async () => { server = await serveDirectory(DIST); });
after(() => server?.close());

test('a clip too large for the GPU is refused up front with the limit', async () => {
  await withPage(server.url, { webgpu: true }, async (page) => {
    await page.page.getByRole('spinbutton', { name: 'Size' }).fill('1024');
    await page.start({ prompt: 'a red circle moving left', frames: 16, steps: 2 });
    const status = await page.waitForEnd();
    assert.match(status, /^Generation failed: 16 frames at 1024×1024 need a [\d.]+ GiB buffer for .*, but this device allows [\d.]+ [GM]iB per buffer/, status);
  });
});

test('a GPU device lost mid-run gives a message, and Generate works again', async () => {
  await withPage(server.url, { webgpu: true }, async (page) => {
    const started = page.page.waitForEvent('worker');
    await page.start({ prompt: 'a red circle moving left', frames: 8, steps: 40, seed: 1 });
    const worker = await started;
    // Keep a handle on the worker's GPU device (the engine never exposes it) to destroy it.
    await worker.evaluate(() => {
      const create = GPUDevice.prototype.createBuffer;
      GPUDevice.prototype.createBuffer = function (...args) {
        self.engineDevice = this;
        return create.apply(this, args);
      };
    });
    await page.waitForStep(1);
    await worker.evaluate(() => self.engineDevice.destroy());
    const status = await page.waitForEnd(120_000);
    assert.match(status, /^The GPU device was lost \(.*\)\. Press Generate to try again/s, status);
    await page.start({ prompt: 'a red circle moving left', frames: 8, steps: 2, seed: 1 });
    const again = await page.waitForEnd();
    assert.match(again, /^Done /, again);
    assert.equal(await page.frameCount(), 8);
  });
});

// Models from a Hub: download with progress into browser storage, a cut connection, loading
// again with the Hub gone, a damaged stored file, deleting, quota, and repos that lack files.
// Storage does not depend on the compute backend, so these run on the quicker CPU fallback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { serveDirectory } from './support/server.mjs';
import { serveHub } from './support/hub.mjs';
import { withPage } from './support/session.mjs';
import { ARTIFACTS } from './support/browser.mjs';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const REQUEST = { prompt: 'a red circle moving left', frames: 4, steps: 1, seed: 1 };
const UNET = 'unet/diffusion_pytorch_model.safetensors';
// Slow enough that the bars show the download in flight (about 2 s for the tiny pipeline).
const PACE = { bytesPerChunk: 64 * 1024, chunkDelayMs: 10 };

let site;
before(async () => {
  site = await serveDirectory(DIST);
});
after(() => site?.close());

/** The OPFS path of a stored file (see app/src/stored.rs). */
function storedPath(hub, repo, path) {
  return ['hub', `127.0.0.1_${hub.port}`, repo.replace('/', '--'), 'main', path.replaceAll('/', '--')];
}

test('a Hub model downloads with progress, survives a cut connection and loads from storage with the Hub gone', async () => {
  const hub = await serveHub({ ...PACE, cutOnce: [`tiny/animatediff/${UNET}`] });
  try {
    await withPage(site.url, { webgpu: false }, async (page) => {
      await page.chooseHub({ hub: hub.url, repo: 'tiny/animatediff' });
      await page.prompt.fill(REQUEST.prompt);
      // Typing a repo id sends nothing to the Hub: the estimate waits for the files.
      await page.estimate(/^Memory estimate: known once the model is downloaded/);
      assert.equal(hub.log.length, 0, 'no request before Generate');
      await page.recordDownload();
      await page.start(REQUEST);
      const status = await page.waitForEnd();
      assert.match(status, /^Done /, `status line: ${status}`);
      assert.equal(await page.frameCount(), REQUEST.frames);
      // The first try at the UNet broke halfway; it was fetched again and verified.
      assert.equal(hub.gets('tiny/animatediff', UNET), 2);
      const values = await page.downloadValues();
      const max = values.at(-1).max;
      assert.ok(max > 10e6, `the download covers the whole pipeline (${max} bytes)`);
      assert.ok(values.some((v) => v.value > 0 && v.value < max), 'the bar showed the download in flight');
      assert.equal(values.at(-1).value, max, 'the bar ends full');
      assert.match(await page.page.getByRole('progressbar', { name: `Downloading tiny/animatediff@main/${UNET}` }).getAttribute('value'), /^\d+$/);
      await page.page.waitForFunction(() => /This model: \d+\.\d MB stored/.test(document.querySelector('.storage')?.textContent));
      await page.estimate(/^Memory estimate: about [\d.]+ MiB of GPU memory \([\d.]+ MiB weights \+ /);
      await page.page.screenshot({ path: `${ARTIFACTS}/hub-download.png`, fullPage: true });

      // The Hub goes away: a reload finds everything in browser storage.
      await hub.close();
      const requests = hub.log.length;
      await page.page.reload();
      await page.chooseHub({ hub: hub.url, repo: 'tiny/animatediff' });
      await page.prompt.fill(REQUEST.prompt);
      await page.estimate(/^Memory estimate: about [\d.]+ MiB of GPU memory \([\d.]+ MiB weights/);
      await page.start(REQUEST);
      const again = await page.waitForEnd();
      assert.match(again, /^Done /, `status line after reload: ${again}`);
      assert.equal(hub.log.length, requests, 'no request reached the Hub');
    });
  } finally {
    await hub.close();
  }
});

test('a damaged stored file is found and fetched again; Delete model frees the storage', async () => {
  const hub = await serveHub();
  try {
    await withPage(site.url, { webgpu: false }, async (page) => {
      await page.chooseHub({ hub: hub.url, repo: 'tiny/animatediff' });
      await page.start(REQUEST);
      assert.match(await page.waitForEnd(), /^Done /);
      await page.corruptStored(storedPath(hub, 'tiny/animatediff', UNET));
      await page.page.reload();
      await page.chooseHub({ hub: hub.url, repo: 'tiny/animatediff' });
      await page.start(REQUEST);
      assert.match(await page.waitForEnd(), /^Done /);
      assert.equal(hub.gets('tiny/animatediff', UNET), 2, 'the damaged file was fetched again');
      assert.equal(hub.gets('tiny/animatediff', 'vae/diffusion_pytorch_model.safetensors'), 1, 'intact files were not');

      await page.deleteModel.click();
      await page.page.waitForFunction(() => /This model: 0 B stored/.test(document.querySelector('.storage')?.textContent));
      const gone = await page.page.evaluate(async (parts) => {
        let dir = await navigator.storage.getDirectory();
        for (const name of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(name);
        return dir.getDirectoryHandle(parts.at(-1)).then(() => false, () => true);
      }, storedPath(hub, 'tiny/animatediff', 'x').slice(0, 4));
      assert.ok(gone, 'the model folder is gone from storage');
    });
  } finally {
    await hub.close();
  }
});

test('a pipeline plus a motion adapter loads; missing files, wrong bytes and too little quota are explained', async () => {
  const hub = await serveHub({
    hide: ['tiny/sd/vae/diffusion_pytorch_model.safetensors'],
    garble: ['tiny/animatediff/vae/diffusion_pytorch_model.safetensors'],
  });
  const complete = await serveHub();
  try {
    await withPage(site.url, { webgpu: false }, async (page) => {
      // A repo that does not exist, and one that lacks a file: the message names the file.
      await page.chooseHub({ hub: hub.url, repo: 'tiny/nope' });
      await page.start(REQUEST);
      assert.match(await page.waitForEnd(), /tiny\/nope .*has no scheduler\/scheduler_config\.json.*HTTP 401/);
      await page.chooseHub({ hub: hub.url, repo: 'tiny/sd', adapter: 'tiny/motion-adapter' });
      await page.start(REQUEST);
      assert.match(await page.waitForEnd(), /tiny\/sd .*has no vae\/diffusion_pytorch_model\.safetensors/);

      // Bytes that do not match the Hub's sha256 are refused (after three tries), naming the file.
      await page.chooseHub({ hub: hub.url, repo: 'tiny/animatediff' });
      await page.start(REQUEST);
      assert.match(await page.waitForEnd(), /Downloading tiny\/animatediff@main\/vae\/diffusion_pytorch_model\.safetensors failed 3 times \(its sha256 is [0-9a-f]{64}, the Hub says [0-9a-f]{64}\)/);

      // The same pair served whole loads (SD1.5-style UNet + adapter).
      await page.chooseHub({ hub: complete.url, repo: 'tiny/sd', adapter: 'tiny/motion-adapter' });
      await page.start(REQUEST);
      assert.match(await page.waitForEnd(), /^Done /);

      // An adapter shipped as one config-less file (AnimateDiff-Lightning's way), with its
      // settings a click away: steps from the file name, no guidance, its sampler.
      const lightning = 'animatediff_lightning_4step_diffusers.safetensors';
      await page.chooseHub({ hub: complete.url, repo: 'tiny/sd', adapter: 'tiny/lightning', adapterFile: lightning });
      await page.page.getByRole('button', { name: 'Use AnimateDiff-Lightning settings' }).click();
      await page.advanced.click();
      assert.deepEqual([await page.steps.inputValue(), await page.guidance.inputValue(), await page.sampler.inputValue()], ['4', '1', 'lightning']);
      await page.start({ ...REQUEST, steps: 4 });
      assert.match(await page.waitForEnd(), /^Done /);
      assert.equal(complete.gets('tiny/lightning', lightning), 1);
      assert.equal(complete.gets('tiny/lightning', 'config.json'), 0, 'a named file is used alone');

      // With 1 MB of quota left the download stops, saying how much it needs and keeping nothing
      // partial. (Chromium's estimate() ignores this override, so the up-front check cannot see it.)
      const used = await page.page.evaluate(async () => (await navigator.storage.estimate()).usage);
      const cdp = await page.page.context().newCDPSession(page.page);
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(site.url).origin, quotaSize: used + 1e6 });
      await page.chooseHub({ hub: complete.url, repo: 'tiny/animatediff' });
      await page.start(REQUEST);
      const refused = await page.waitForEnd();
      assert.match(refused, /Not enough browser storage: this model needs \d+\.\d MB more/);
      const usedAfter = await page.page.evaluate(async () => (await navigator.storage.estimate()).usage);
      assert.ok(usedAfter < used + 1e6, `the partial file was removed (${usedAfter - used} bytes more stored)`);
    });
  } finally {
    await hub.close();
    await complete.close();
  }
});

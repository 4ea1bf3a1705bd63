// Page figures for docs/benchmarks.md, in headless Chromium (SwiftShader WebGPU, no GPU):
// time to first paint, time for a clip with the bundled model at the page's defaults, and the
// worker's peak wasm heap after loading that model and generating. Needs `trunk build` first.
// Usage: node bench/page.mjs [runs]
import { fileURLToPath } from 'node:url';
import { serveDirectory } from '../tests/e2e/support/server.mjs';
import { launch } from '../tests/e2e/support/browser.mjs';
import { GeneratePage } from '../tests/e2e/pages/generate-page.mjs';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const runs = Number(process.argv[2] ?? 3);
const server = await serveDirectory(DIST);
const browser = await launch({ webgpu: true });
try {
  for (let run = 1; run <= runs; run += 1) {
    const page = new GeneratePage(await browser.newPage());
    await page.open(server.url);
    const paint = await page.page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime);
    await page.prompt.fill('a red circle moving left on a black background');
    const clicked = Date.now();
    await page.generate.click();
    const status = await page.waitForEnd();
    const wall = (Date.now() - clicked) / 1000;
    const heap = Number(await page.clip.getAttribute('data-worker-heap-bytes'));
    console.log(JSON.stringify({ run, firstContentfulPaintMs: paint, clickToClipS: wall, status, workerHeapMiB: heap / 2 ** 20 }));
    await page.page.close();
  }
} finally {
  await browser.close();
  server.close();
}

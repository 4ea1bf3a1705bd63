// The walking skeleton end to end: built page → Leptos → engine → WebGPU → canvas pixels.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serveDirectory } from './support/server.mjs';
import { launch, ARTIFACTS } from './support/browser.mjs';
import { GeneratePage } from './pages/generate-page.mjs';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const FIXTURE = JSON.parse(
  readFileSync(fileURLToPath(new URL('../fixtures/skeleton.json', import.meta.url)), 'utf8'));
// WebGPU (SwiftShader) and the CPU backend differ by float rounding only; after 8-bit
// quantisation that moves a channel by at most a step or two.
const MAX_CHANNEL_DIFF = 2;
const MAX_MEAN_DIFF = 0.1;

let server;
before(async () => { server = await serveDirectory(DIST); });
after(() => server?.close());

function compareWithFixture(pixels) {
  assert.equal(pixels.width, FIXTURE.width);
  assert.equal(pixels.height, FIXTURE.height);
  const diffs = pixels.rgb.map((v, i) => Math.abs(v - FIXTURE.rgb[i]));
  const worst = Math.max(...diffs);
  const mean = diffs.reduce((a, b) => a + b, 0) / diffs.length;
  assert.ok(worst <= MAX_CHANNEL_DIFF, `worst channel difference ${worst}/255`);
  assert.ok(mean <= MAX_MEAN_DIFF, `mean channel difference ${mean}/255`);
}

async function withPage(options, body) {
  const browser = await launch(options);
  try {
    const page = new GeneratePage(await browser.newPage());
    await page.open(server.url);
    await body(page);
    assert.deepEqual(page.errors, [], 'the page threw');
  } finally {
    await browser.close();
  }
}

test('Generate runs on WebGPU and paints the native result', async () => {
  await withPage({ webgpu: true }, async (page) => {
    const status = await page.generateFrom(FIXTURE.prompt);
    assert.match(status, /^Done .* on WebGPU/, `status line: ${status}`);
    compareWithFixture(await page.clipPixels());
    await page.page.screenshot({ path: `${ARTIFACTS}/skeleton-webgpu.png` });
  });
});

test('Without WebGPU the page says so and falls back to the CPU', async () => {
  await withPage({ webgpu: false }, async (page) => {
    const status = await page.generateFrom(FIXTURE.prompt);
    assert.match(status, /on the CPU/, `status line: ${status}`);
    assert.match(status, /WebGPU/, 'the status line names what is missing');
    compareWithFixture(await page.clipPixels());
  });
});

test('An empty prompt cannot be generated and the page says why', async () => {
  await withPage({ webgpu: true }, async (page) => {
    assert.equal(await page.generate.isDisabled(), true);
    await page.prompt.fill('   ');
    assert.equal(await page.generate.isDisabled(), true);
    assert.equal(await page.page.getByText('Enter a prompt to generate.').isVisible(), true);
    await page.prompt.fill('a cat');
    assert.equal(await page.generate.isDisabled(), false);
  });
});

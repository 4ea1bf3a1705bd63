// One browser, one page object on the served page, and the checks every spec ends with: the
// page threw nothing and its Content-Security-Policy blocked nothing.
import assert from 'node:assert/strict';
import { launch } from './browser.mjs';
import { GeneratePage } from '../pages/generate-page.mjs';

export async function withPage(url, options, body) {
  const browser = await launch(options);
  try {
    const page = new GeneratePage(await browser.newPage());
    await page.open(url);
    await body(page);
    assert.deepEqual(page.errors, [], 'the page threw');
    assert.deepEqual(await page.cspViolations(), [], 'the Content-Security-Policy blocked something');
  } finally {
    await browser.close();
  }
}

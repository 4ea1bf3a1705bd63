// Each option is one engine enum (`engine/src/options.rs`): the CLI's flag values and the
// page's drop-downs are both derived from it, so they list the same values, with the same
// names and labels, in the same order. (The protocol carries the same enums by the same names:
// the engine's `every_option_is_derived_from_its_one_list` test.) A value added to an enum
// shows up in both here, or this fails.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { serveDirectory } from './support/server.mjs';
import { withPage } from './support/session.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = join(ROOT, 'dist');
const CLI = join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'debug', 'freenoise');

/** The page's drop-down (by its label) and the CLI flag built from the same option. */
const OPTIONS = [
  { menu: 'Sampler', flag: '--scheduler', modelEntry: true },
  { menu: 'Weighting', flag: '--weighting' },
  { menu: 'Noise', flag: '--noise' },
  { menu: 'Between descriptions', flag: '--interpolation' },
];

/** `[name, label]` of each value `freenoise generate --help` lists under `flag`
 * ("- name: label" lines, up to the next flag). */
function cliValues(help, flag) {
  const start = help.indexOf(`      ${flag} <`);
  assert.ok(start >= 0, `${flag} in the CLI's help`);
  const section = help.slice(start).split('\n      --')[0];
  const values = [...section.matchAll(/^\s+- ([a-z_-]+):\s+(.+)$/gm)].map((m) => [m[1], m[2].trim()]);
  assert.ok(values.length >= 2, `values of ${flag} in:\n${section}`);
  return values;
}

let server;
before(async () => { server = await serveDirectory(DIST); });
after(() => server?.close());

test("the page's drop-downs and the CLI's flags list each option's values from one definition", async () => {
  const help = execFileSync(CLI, ['generate', '--help'], { encoding: 'utf8' });
  await withPage(server.url, { webgpu: false }, async (page) => {
    await page.advanced.click();
    for (const { menu, flag, modelEntry } of OPTIONS) {
      const entries = await page.page.getByRole('combobox', { name: menu }).locator('option')
        .evaluateAll((options) => options.map((o) => [o.value, o.textContent.trim()]));
      const fromCli = cliValues(help, flag);
      const expected = modelEntry ? [['model', "The model's own"], ...fromCli] : fromCli;
      assert.deepEqual(entries, expected, `${menu} lists what ${flag} takes`);
    }
  });
});

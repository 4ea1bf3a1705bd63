// The native engine's output for the same request, from the `freenoise` CLI that
// `cargo test -p engine` builds: what the page's clip must equal.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TARGET = process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target');

/** Runs the CLI on the bundled demo model with the page's default guidance (5);
 * returns {frames, height, width, rgb: Uint8Array}. */
export function nativeClip({ prompt, frames, steps, seed }) {
  const out = join(mkdtempSync(join(tmpdir(), 'freenoise-e2e-')), 'video.npy');
  execFileSync(join(TARGET, 'debug', 'freenoise'), [
    'generate', '--model', join(ROOT, 'public/models/demo'), '--prompt', prompt, '--negative', '',
    '--frames', String(frames), '--height', '64', '--width', '64', '--steps', String(steps),
    '--guidance', '5', '--seed', String(seed), '--save-video', out,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const bytes = readFileSync(out);
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const start = 10 + headerLength;
  const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + bytes.length));
  const rgb = Uint8Array.from(values, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
  return { frames: shape[0], height: shape[1], width: shape[2], rgb };
}

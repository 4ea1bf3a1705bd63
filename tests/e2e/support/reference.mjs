// The native side of the page tests, from the binaries `cargo test` builds: the engine's
// `freenoise` CLI for its clip of a request (what the page's clip must equal) and the demo
// model's `freenoise-demo` for its analyser.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TARGET = process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target');
const CLI = join(TARGET, 'debug', 'freenoise');
const DEMO_CLI = join(TARGET, 'debug', 'freenoise-demo');

function scratch(name) {
  return join(mkdtempSync(join(tmpdir(), 'freenoise-e2e-')), name);
}

/** The page's default guidance for the demo model (`demo::settings::GUIDANCE`, which the page's
 * `DEFAULTS` read). */
const PAGE_GUIDANCE = '3';

/** Runs the CLI on the bundled demo model with the page's default guidance and writes the
 * clip as float32 .npy (F, H, W, 3) in [0, 1]; returns its path. */
function nativeVideo({ prompt, frames, steps, seed }) {
  const out = scratch('video.npy');
  execFileSync(CLI, [
    'generate', '--model', join(ROOT, 'public/models/demo'), '--prompt', prompt, '--negative', '',
    '--frames', String(frames), '--height', '64', '--width', '64', '--steps', String(steps),
    '--guidance', PAGE_GUIDANCE, '--seed', String(seed), '--save-video', out,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

/** The native clip for a request: {frames, height, width, rgb: Uint8Array}. */
export function nativeClip(request) {
  const bytes = readFileSync(nativeVideo(request));
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const start = 10 + headerLength;
  const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + bytes.length));
  const rgb = Uint8Array.from(values, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
  return { frames: shape[0], height: shape[1], width: shape[2], rgb };
}

/** `freenoise-demo analyse` on a .npy clip: {frames, colour, direction, visible, consistency}. */
function analyseFile(path) {
  return JSON.parse(execFileSync(DEMO_CLI, ['analyse', '--video', path], { encoding: 'utf8' }));
}

/** The analyser's reading of the native clip for a request. */
export function nativeAnalysis(request) {
  return analyseFile(nativeVideo(request));
}

/** The analyser's reading of frames read from the page ([{width, height, rgb}], 8-bit RGB). */
export function analyseFrames(frames) {
  const { width, height } = frames[0];
  const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${frames.length}, ${height}, ${width}, 3), }`;
  // .npy v1: magic, version, header length, header padded with spaces to a multiple of 64 and ended by a newline.
  const padded = header.padEnd(Math.ceil((header.length + 11) / 64) * 64 - 11, ' ') + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix.writeUInt8(1, 6);
  prefix.writeUInt8(0, 7);
  prefix.writeUInt16LE(padded.length, 8);
  const values = Float32Array.from(frames.flatMap((f) => f.rgb), (v) => v / 255);
  const path = scratch('page.npy');
  writeFileSync(path, Buffer.concat([prefix, Buffer.from(padded, 'latin1'), Buffer.from(values.buffer)]));
  return analyseFile(path);
}

// A local stand-in for the Hugging Face Hub: serves committed fixture folders as repos under
// the Hub's `/{repo}/resolve/{revision}/{path}` layout, with the headers the Hub sends (size,
// sha256 ETag on weights, CORS), a log of every request, and faults on demand.
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

/** The repos the tests use: a one-piece pipeline, and an SD1.5-style pipeline + motion adapter. */
export const REPOS = {
  'tiny/animatediff': join(FIXTURES, 'tiny-mid'),
  'tiny/sd': join(FIXTURES, 'tiny-split'),
  'tiny/motion-adapter': join(FIXTURES, 'tiny-split', 'motion_adapter'),
  // One config-less adapter file, as AnimateDiff-Lightning's repo holds them.
  'tiny/lightning': join(FIXTURES, 'tiny-split', 'lightning'),
};

/**
 * options.cutOnce: paths (`repo/path`) whose first GET stops after half the bytes with the
 * connection torn down; options.hide: paths answered with 404 as if the repo lacked them;
 * options.garble: paths whose every GET body has bytes flipped (the headers stay true);
 * options.bytesPerChunk / chunkDelayMs: how the body is paced (so progress can be seen).
 */
export async function serveHub({ cutOnce = [], hide = [], garble = [], bytesPerChunk = 256 * 1024, chunkDelayMs = 5, port = 0 } = {}) {
  const log = [];
  const cut = new Set(cutOnce);
  const server = createServer(async (request, response) => {
    const url = new URL(request.url, 'http://localhost');
    log.push({ method: request.method, path: url.pathname });
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'etag, content-length, x-linked-size, x-linked-etag, x-error-code',
    };
    const match = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(decodeURIComponent(url.pathname));
    const root = match && REPOS[match[1]];
    if (!root) {
      response.writeHead(401, { ...cors, 'x-error-code': 'RepoNotFound' }).end('Repository not found');
      return;
    }
    const [, repo, revision, path] = match;
    const file = normalize(join(root, path));
    if (revision !== 'main' || !file.startsWith(root) || hide.includes(`${repo}/${path}`)) {
      response.writeHead(404, { ...cors, 'x-error-code': 'EntryNotFound' }).end('Entry not found');
      return;
    }
    let body;
    try {
      body = await readFile(file);
    } catch {
      response.writeHead(404, { ...cors, 'x-error-code': 'EntryNotFound' }).end('Entry not found');
      return;
    }
    // Like the Hub's resolve answers: LFS files (the weights) carry their sha256 as ETag and
    // X-Linked-Etag (and their size as X-Linked-Size); small files a git hash.
    const lfs = path.endsWith('.safetensors');
    const etag = lfs ? createHash('sha256').update(body).digest('hex') : createHash('sha1').update(body).digest('hex');
    const linked = lfs ? { 'x-linked-etag': `"${etag}"`, 'x-linked-size': body.length } : {};
    response.writeHead(200, { ...cors, ...linked, 'content-length': body.length, etag: `"${etag}"`, 'content-type': 'application/octet-stream' });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    const key = `${repo}/${path}`;
    if (garble.includes(key)) {
      body = Buffer.from(body);
      body.fill(0x5a, body.length >> 1, (body.length >> 1) + 64);
    }
    const stopAt = cut.delete(key) ? Math.floor(body.length / 2) : body.length;
    for (let at = 0; at < stopAt; at += bytesPerChunk) {
      response.write(body.subarray(at, Math.min(at + bytesPerChunk, stopAt)));
      await new Promise((done) => setTimeout(done, chunkDelayMs));
    }
    if (stopAt < body.length) {
      response.destroy();
      return;
    }
    response.end();
  });
  await new Promise((done) => server.listen(port, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    port: server.address().port,
    log,
    /** GET requests for `path` of `repo` so far. */
    gets: (repo, path) => log.filter((r) => r.method === 'GET' && r.path === `/${repo}/resolve/main/${path}`).length,
    close: () => new Promise((done) => { server.closeAllConnections(); server.close(done); }),
  };
}

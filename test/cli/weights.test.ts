// `revcor weights fetch` against a local HTTP server on 127.0.0.1: hash-verified, atomic, idempotent.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/app.ts';
import type { CliDeps } from '../../cli/deps.ts';
import { fetchWeights } from '../../model/fetch-weights.ts';
import { writeKerasH5 } from '../../model/keras-h5.ts';
import { vggNetwork } from '../../model/network.ts';
import { seededWeights } from '../../model/seeded.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'revcor-fetch-'));
let server: Server;
let base = '';
let fixture: Buffer;
let requests = 0;

beforeAll(async () => {
  // A small Keras-layout .h5 served as the "official" file (block1 only keeps it small).
  const net = vggNetwork('vgg16');
  const small = { ...net, ops: net.ops.slice(0, 5) };
  const file = path.join(dir, 'fixture.h5');
  await writeKerasH5(file, small, seededWeights(small, 1));
  fixture = readFileSync(file);
  server = createServer((req, res) => {
    requests++;
    if (req.url === '/weights.h5') {
      res.writeHead(200, { 'content-length': fixture.length });
      res.end(fixture);
    } else if (req.url === '/moved.h5') {
      res.writeHead(302, { location: '/weights.h5' });
      res.end();
    } else if (req.url === '/truncated.h5') {
      res.writeHead(200, { 'content-length': fixture.length });
      res.write(fixture.subarray(0, 1000), () => res.destroy());
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const sha256 = () => createHash('sha256').update(fixture).digest('hex');

function deps(): Pick<CliDeps, 'stdout' | 'stderr'> & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (d) => (o += d));
  stderr.on('data', (d) => (e += d));
  return { stdout, stderr, out: () => o, err: () => e };
}

describe('weights fetch', () => {
  it('downloads (following a redirect), verifies the sha256, writes the destination atomically', async () => {
    const dest = path.join(dir, 'keras', 'models', 'vgg16.h5');
    const r = await fetchWeights({ arch: 'vgg16', url: `${base}/moved.h5`, sha256: sha256(), dest });
    expect(r).toMatchObject({ dest, bytes: fixture.length, sha256: sha256(), alreadyPresent: false });
    expect(readFileSync(dest).equals(fixture)).toBe(true);
    expect(readdirSync(path.dirname(dest))).toEqual(['vgg16.h5']);
    const before = requests;
    const again = await fetchWeights({ arch: 'vgg16', url: `${base}/weights.h5`, sha256: sha256(), dest });
    expect(again.alreadyPresent).toBe(true);
    expect(requests).toBe(before);
  });

  it('a wrong hash, a truncated body and an HTTP error leave nothing behind', async () => {
    const dest = path.join(dir, 'bad', 'vgg19.h5');
    await expect(fetchWeights({ arch: 'vgg19', url: `${base}/weights.h5`, sha256: '0'.repeat(64), dest })).rejects.toThrow(/Expected sha256 0{64}; nothing was written/);
    // Without --sha256 the official Keras MD5 is checked: the fixture is not the official file.
    await expect(fetchWeights({ arch: 'vgg19', url: `${base}/weights.h5`, dest })).rejects.toThrow(/md5 253f8cb515780f3b799900260a226db6/);
    await expect(fetchWeights({ arch: 'vgg19', url: `${base}/truncated.h5`, sha256: sha256(), dest })).rejects.toThrow(/sent 1000 of \d+ bytes|failed after \d+ bytes/);
    await expect(fetchWeights({ arch: 'vgg19', url: `${base}/missing.h5`, sha256: sha256(), dest })).rejects.toThrow(/HTTP 404/);
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(path.dirname(dest)) ? readdirSync(path.dirname(dest)) : []).toEqual([]);
  });

  it('an existing file with the wrong content is replaced; --force downloads again', async () => {
    const dest = path.join(dir, 'replace.h5');
    writeFileSync(dest, 'old content');
    await fetchWeights({ arch: 'vgg16', url: `${base}/weights.h5`, sha256: sha256(), dest });
    expect(readFileSync(dest).equals(fixture)).toBe(true);
    const before = requests;
    expect((await fetchWeights({ arch: 'vgg16', url: `${base}/weights.h5`, sha256: sha256(), dest, force: true })).alreadyPresent).toBe(false);
    expect(requests).toBe(before + 1);
  });

  it('through the CLI: `revcor weights fetch vgg16 --url --sha256 --dest`; default dest is $KERAS_HOME/models', async () => {
    const d = deps();
    const dest = path.join(dir, 'cli', 'w.h5');
    const code = await main(['weights', 'fetch', 'vgg16', '--url', `${base}/weights.h5`, '--sha256', sha256(), '--dest', dest], { ...d, stages: () => [], invocation: 'revcor' });
    expect(code).toBe(0);
    expect(d.out()).toContain(`Downloaded vgg16 weights to ${dest}`);
    expect(d.out()).toContain(`sha256 ${sha256()}`);
    const home = path.join(dir, 'keras-home');
    const r = await fetchWeights({ arch: 'vgg19', url: `${base}/weights.h5`, sha256: sha256(), env: { KERAS_HOME: home } });
    expect(r.dest).toBe(path.join(home, 'models', 'vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5'));
    const bad = deps();
    expect(await main(['weights', 'fetch', 'vgg16', '--url', `${base}/weights.h5`, '--sha256', 'xyz', '--dest', dest], { ...bad, stages: () => [], invocation: 'revcor' })).toBe(2);
    expect(bad.err()).toMatch(/--sha256: expected 64 hex digits/);
  });
});

// `model.weights: auto` as Keras' weights='imagenet', against a loopback server: the first run downloads once
// (hash-checked, installed in the Keras cache), later runs read the cache; --offline and an unreachable server fall
// back to seeded weights loudly (report.html carries a banner); a wrong file is an error that installs nothing.
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeKerasH5 } from '../../model/keras-h5.ts';
import { vggNetwork } from '../../model/network.ts';
import { seededWeights } from '../../model/seeded.ts';
import { allFinalizers } from '../../report/finalizers.ts';
import { allStages } from '../../stages/index.ts';
import { cli, REPO } from '../cli/helpers.ts';
import { cleanup, tempDir } from '../pipeline/helpers.ts';

let dir: string;
let server: Server;
let served: Buffer;
let requests = 0;
let url: string;
const saved: Record<string, string | undefined> = {};
const ENV = ['KERAS_HOME', 'REVCOR_OFFLINE', 'REVCOR_WEIGHTS_URL_VGG16', 'REVCOR_WEIGHTS_SHA256_VGG16'];

beforeAll(async () => {
  dir = await tempDir('revcor-auto-');
  const file = join(dir, 'served.h5');
  const net = vggNetwork('vgg16');
  await writeKerasH5(file, net, seededWeights(net, 11));
  served = await readFile(file);
  server = createServer((req, res) => {
    requests++;
    if (req.url === '/vgg16.h5') {
      res.writeHead(200, { 'content-length': served.byteLength });
      res.end(served);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const k of ENV) saved[k] = process.env[k];
}, 120_000);
afterAll(async () => {
  for (const k of ENV) (saved[k] === undefined ? delete process.env[k] : (process.env[k] = saved[k]));
  await new Promise((r) => server.close(r));
  await cleanup(dir);
});

/** The smoke experiment with model.weights auto, into a fresh directory, with this test's Keras cache. */
async function runAuto(name: string, env: Record<string, string | undefined>, ...extra: string[]) {
  for (const [k, v] of Object.entries(env)) (v === undefined ? delete process.env[k] : (process.env[k] = v));
  const out = join(dir, name);
  const r = await cli(['run', join(REPO, 'config/smoke.yaml'), '--out', out, '--set', 'model.weights=auto', '--set', 'stimuli.noise.enabled=false', ...extra], allStages, allFinalizers);
  return { ...r, out };
}

/** A loopback port nobody listens on (a server opened and closed again). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** The weights label the activations stage recorded. */
async function weightsLabel(out: string): Promise<string> {
  const t = tableFromIPC(await readFile(join(out, 'activations', 'gratings-000000-000048.arrow')));
  return t.schema.metadata.get('revcor.activations.weights') ?? '';
}

describe('model.weights: auto downloads once into the Keras cache', () => {
  it('--offline and an unreachable server: seeded weights, loudly, and a banner in report.html; nothing requested', async () => {
    const keras = join(dir, 'keras-offline');
    const off = await runAuto('offline', { KERAS_HOME: keras, REVCOR_OFFLINE: undefined, REVCOR_WEIGHTS_URL_VGG16: `${url}/vgg16.h5` }, '--offline');
    expect(off.code, off.stderr).toBe(0);
    expect(off.stderr).toContain('warning: model.weights: auto: no Keras cache file and no download (--offline): this run uses SEEDED, untrained weights');
    expect(requests).toBe(0);
    expect(await weightsLabel(off.out)).toBe('seeded:0');
    expect(await readFile(join(off.out, 'report.html'), 'utf8')).toMatch(/<div class="banner" role="alert">SEEDED WEIGHTS: this run used untrained vgg16 weights/);
    const port = await closedPort();
    const closed = await runAuto('unreachable', { KERAS_HOME: keras, REVCOR_OFFLINE: undefined, REVCOR_WEIGHTS_URL_VGG16: `http://127.0.0.1:${port}/vgg16.h5` });
    expect(closed.code, closed.stderr).toBe(0);
    expect(closed.stderr).toContain(`no download (http://127.0.0.1:${port}/vgg16.h5 is unreachable (ECONNREFUSED)): this run uses SEEDED`);
    expect(existsSync(join(keras, 'models'))).toBe(false);
  });

  it('a wrong file is an error that installs nothing', async () => {
    const keras = join(dir, 'keras-wrong');
    const r = await runAuto('wrong', { KERAS_HOME: keras, REVCOR_OFFLINE: undefined, REVCOR_WEIGHTS_URL_VGG16: `${url}/vgg16.h5`, REVCOR_WEIGHTS_SHA256_VGG16: '0'.repeat(64) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\nerror: weights fetch: http:\/\/127\.0\.0\.1:\d+\/vgg16\.h5 gave a file with sha256 [0-9a-f]{64} .*Expected sha256 0{64}; nothing was written/);
    expect(existsSync(join(keras, 'models', 'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5'))).toBe(false);
    const missing = await runAuto('missing', { KERAS_HOME: keras, REVCOR_OFFLINE: undefined, REVCOR_WEIGHTS_URL_VGG16: `${url}/nope.h5`, REVCOR_WEIGHTS_SHA256_VGG16: undefined });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/answered HTTP 404/);
  });

  it('the first run downloads and installs the file (hash-checked); the next run reads the cache without a request', async () => {
    const keras = join(dir, 'keras');
    await mkdir(keras);
    const sha = createHash('sha256').update(served).digest('hex');
    const before = requests;
    const env = { KERAS_HOME: keras, REVCOR_OFFLINE: undefined, REVCOR_WEIGHTS_URL_VGG16: `${url}/vgg16.h5`, REVCOR_WEIGHTS_SHA256_VGG16: sha };
    const first = await runAuto('first', env);
    expect(first.code, first.stderr).toBe(0);
    const cached = join(keras, 'models', 'vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5');
    expect(first.stderr).toMatch(/downloading vgg16 ImageNet weights \(model\.weights: auto\): [\d.]+ \/ [\d.]+ MB \(100%\)/);
    expect(first.stderr).toContain(`installed ${cached} (sha256 ${sha.slice(0, 16)}…)`);
    expect((await readFile(cached)).equals(served)).toBe(true);
    expect(await weightsLabel(first.out)).toBe(`${cached} sha256:${sha}`);
    expect(await readFile(join(first.out, 'report.html'), 'utf8')).not.toContain('class="banner"');
    const second = await runAuto('second', env);
    expect(second.code, second.stderr).toBe(0);
    expect(requests - before).toBe(1);
    expect(second.stderr).not.toContain('downloading');
  });
});

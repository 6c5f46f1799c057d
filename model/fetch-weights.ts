// Downloads the official Keras VGG weight files into Keras' cache (or elsewhere), verifying their hash while
// streaming and writing atomically (temp file in the target folder, fsync, rename, fsync of the folder).
// Tested in test/cli/weights.test.ts.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsyncDir, tempPathFor } from '../pipeline/atomic.ts';
import { InputError, RevcorError } from '../pipeline/errors.ts';
import { KERAS_WEIGHT_FILES, kerasModelsDir } from './load.ts';

/** Where Keras downloads each file from, and the MD5 Keras' get_file checks it against (keras.applications). */
export const OFFICIAL_WEIGHTS = {
  vgg16: {
    url: 'https://storage.googleapis.com/tensorflow/keras-applications/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5',
    md5: '6d6bbae143d832006294945121d1f1fc',
  },
  vgg19: {
    url: 'https://storage.googleapis.com/tensorflow/keras-applications/vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5',
    md5: '253f8cb515780f3b799900260a226db6',
  },
} as const;

/** What to fetch: the architecture, and optional overrides of URL, expected hash and destination. */
export interface FetchOptions {
  arch: 'vgg16' | 'vgg19';
  url?: string;
  /** Expected SHA-256 (hex); without it the official MD5 is checked, as Keras does. */
  sha256?: string;
  /** Destination file (default: Keras' cache file, ~/.keras/models/…). */
  dest?: string;
  /** Download even when the destination already holds a file with the expected hash. */
  force?: boolean;
  /** Progress callback: bytes received and total (0 when unknown). */
  onProgress?: (received: number, total: number) => void;
  env?: NodeJS.ProcessEnv;
  /** Give up when the server has not answered (headers) within this many ms (default: no limit). */
  connectTimeoutMs?: number;
}

/** The outcome: where the file is and its hashes. */
export interface FetchResult {
  dest: string;
  bytes: number;
  sha256: string;
  md5: string;
  /** True when the destination already held the verified file and nothing was downloaded. */
  alreadyPresent: boolean;
}

async function hashFile(file: string): Promise<{ sha256: string; md5: string; bytes: number }> {
  const sha = createHash('sha256');
  const md5 = createHash('md5');
  let bytes = 0;
  const fh = await open(file, 'r');
  try {
    for await (const chunk of fh.createReadStream()) {
      sha.update(chunk as Buffer);
      md5.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
  return { sha256: sha.digest('hex'), md5: md5.digest('hex'), bytes };
}

/** Downloads, verifies and atomically installs a weight file; a wrong hash leaves nothing behind. */
export async function fetchWeights(opts: FetchOptions): Promise<FetchResult> {
  const official = OFFICIAL_WEIGHTS[opts.arch];
  const url = opts.url ?? official.url;
  const dest = opts.dest ?? join(kerasModelsDir(opts.env), KERAS_WEIGHT_FILES[opts.arch]);
  const expectSha = opts.sha256?.toLowerCase();
  if (expectSha !== undefined && !/^[0-9a-f]{64}$/.test(expectSha)) throw new InputError(`--sha256: expected 64 hex digits, got '${opts.sha256}'.`);
  const matches = (h: { sha256: string; md5: string }) => (expectSha ? h.sha256 === expectSha : h.md5 === official.md5);
  const expected = expectSha ? `sha256 ${expectSha}` : `md5 ${official.md5} (the hash Keras checks)`;

  if (!opts.force && existsSync(dest)) {
    const h = await hashFile(dest);
    if (matches(h)) return { dest, ...h, alreadyPresent: true };
  }

  let response: Response;
  const connect = new AbortController();
  const timer = opts.connectTimeoutMs ? setTimeout(() => connect.abort(new DOMException('no answer', 'TimeoutError')), opts.connectTimeoutMs) : undefined;
  try {
    response = await fetch(url, { redirect: 'follow', signal: connect.signal });
  } catch (e) {
    const why = (e as Error).name === 'TimeoutError' || connect.signal.aborted ? `no answer within ${opts.connectTimeoutMs} ms` : String((e as Error).cause ?? (e as Error).message);
    throw new InputError(`weights fetch: cannot reach ${url} (${why}). Expected a reachable URL; use --url for a mirror, or copy the file to ${dest}.`, { cause: connect.signal.aborted ? connect.signal.reason : e });
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok || !response.body) throw new InputError(`weights fetch: ${url} answered HTTP ${response.status} ${response.statusText}. Expected 200 with the .h5 file.`);
  const total = Number(response.headers.get('content-length') ?? 0);

  await mkdir(dirname(dest), { recursive: true });
  const tmp = tempPathFor(dest);
  const sha = createHash('sha256');
  const md5 = createHash('md5');
  let received = 0;
  const fh = await open(tmp, 'w');
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      sha.update(chunk);
      md5.update(chunk);
      received += chunk.byteLength;
      let off = 0;
      while (off < chunk.byteLength) off += (await fh.write(chunk, off, chunk.byteLength - off)).bytesWritten;
      opts.onProgress?.(received, total);
    }
    await fh.sync();
    await fh.close();
    const got = { sha256: sha.digest('hex'), md5: md5.digest('hex') };
    if (total > 0 && received !== total) throw new InputError(`weights fetch: ${url} sent ${received} of ${total} bytes. Expected the whole file; try again.`);
    if (!matches(got)) {
      throw new InputError(`weights fetch: ${url} gave a file with sha256 ${got.sha256} / md5 ${got.md5}. Expected ${expected}; nothing was written to ${dest}.`);
    }
    await rename(tmp, dest);
    await fsyncDir(dirname(dest));
    return { dest, bytes: received, ...got, alreadyPresent: false };
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    if (e instanceof RevcorError) throw e;
    throw new InputError(`weights fetch: the download from ${url} failed after ${received} bytes (${(e as Error).message}). Expected the whole file; nothing was written to ${dest}; try again.`);
  }
}

// `model.weights: auto`, as Keras' weights='imagenet': the first run without the Keras cache file downloads the
// official file once (hash-checked, atomically installed into the cache) and every later run reads it. Offline (no
// network, or --offline / REVCOR_OFFLINE=1) the run falls back to seeded weights with a loud warning; a download
// that reaches the server but fails (HTTP error, wrong hash, cut short) is an error, never a silent fallback.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelConfig } from '../config/schema.ts';
import { InputError } from '../pipeline/errors.ts';
import { fetchWeights, OFFICIAL_WEIGHTS, type FetchResult } from './fetch-weights.ts';
import { KERAS_WEIGHT_FILES, kerasModelsDir } from './load.ts';

/** What ensureAutoWeights did. */
export type AutoWeightsOutcome =
  | { kind: 'not-auto' }
  | { kind: 'cached'; path: string }
  | { kind: 'downloaded'; path: string; result: FetchResult }
  | { kind: 'offline'; reason: string };

/** How to reach the weights: the official URL and hash, or a mirror's (REVCOR_WEIGHTS_URL_VGG16, …_SHA256_VGG16). */
export function weightsSource(arch: 'vgg16' | 'vgg19', env: NodeJS.ProcessEnv = process.env): { url: string; sha256?: string } {
  const key = arch.toUpperCase();
  return { url: env[`REVCOR_WEIGHTS_URL_${key}`] || OFFICIAL_WEIGHTS[arch].url, sha256: env[`REVCOR_WEIGHTS_SHA256_${key}`] || undefined };
}

/** Whether an error from fetch means the network is unreachable (DNS, refused, reset, timed out). */
function unreachable(e: unknown): boolean {
  const code = ((e as { cause?: { code?: string } })?.cause?.code ?? (e as { code?: string })?.code ?? '') as string;
  return /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|UND_ERR_CONNECT_TIMEOUT|UND_ERR_SOCKET/.test(code) || (e as Error)?.name === 'TimeoutError';
}

/**
 * Makes `weights: auto` of a VGG config find the Keras cache file: downloads it when absent, unless offline.
 * Returns what happened; the caller reports it (model/load.ts then resolves auto to the file, or to seeded weights).
 */
export async function ensureAutoWeights(
  cfg: Pick<ModelConfig, 'arch' | 'weights'>,
  opts: { offline?: boolean; env?: NodeJS.ProcessEnv; onProgress?: (received: number, total: number) => void; connectTimeoutMs?: number } = {},
): Promise<AutoWeightsOutcome> {
  const env = opts.env ?? process.env;
  if (cfg.arch === 'onnx' || (cfg.weights !== 'auto' && !cfg.weights.endsWith('/auto'))) return { kind: 'not-auto' };
  if (cfg.weights !== 'auto' && existsSync(cfg.weights)) return { kind: 'not-auto' }; // a file really named auto
  const path = join(kerasModelsDir(env), KERAS_WEIGHT_FILES[cfg.arch]);
  if (existsSync(path)) return { kind: 'cached', path };
  if (opts.offline || env.REVCOR_OFFLINE === '1') return { kind: 'offline', reason: opts.offline ? '--offline' : 'REVCOR_OFFLINE=1' };
  const src = weightsSource(cfg.arch, env);
  try {
    const result = await fetchWeights({ arch: cfg.arch, url: src.url, sha256: src.sha256, dest: path, onProgress: opts.onProgress, env, connectTimeoutMs: opts.connectTimeoutMs ?? 15_000 });
    return { kind: 'downloaded', path: result.dest, result };
  } catch (e) {
    if (e instanceof InputError && unreachable(e.cause)) return { kind: 'offline', reason: `${src.url} is unreachable (${(e.cause as { cause?: { code?: string } })?.cause?.code ?? (e.cause as Error).message})` };
    throw e;
  }
}

// Shared helpers of the pipeline tests: temp output dirs and toy experiments.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExperimentSchema, type Experiment } from '../../config/schema.ts';
import type { PlanContext } from '../../pipeline/stage.ts';

/** A fresh temp directory; remove it with `cleanup`. */
export async function tempDir(prefix = 'revcor-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Removes a temp directory. */
export async function cleanup(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** A toy experiment: 10 noise "stimuli" in shards of 4 unless overridden. */
export function toyExperiment(over: (c: Record<string, any>) => void = () => {}): PlanContext<Experiment> {
  const raw: Record<string, any> = { model: {}, stimuli: { noise: { count: 10, seed: 1 } }, activations: { shardSize: 4 }, awa: { zThreshold: 5 }, awc: { shuffles: 20 } };
  over(raw);
  const config: Experiment = ExperimentSchema.parse(raw);
  return { config, configDir: '/' };
}

// An output directory's experiment as a worker sees it: the resolved config it holds, loaded and keyed (every
// shard's cache key computed here, from this code and the input files as this machine sees them). Memoised by the
// directory and the config's content, so a new coordinator run with a changed config is seen at once; at most 8
// kept. Redis-free.
import { readFile } from 'node:fs/promises';
import { FileHasher, sha256 } from '../cache-key.ts';
import { planKeys, type KeyedStage } from '../plan.ts';
import { resolvedConfigFile } from '../rundir.ts';
import type { PlanContext, Stage } from '../stage.ts';

/** An output directory's experiment with every shard's cache key. */
export interface RunView {
  /** sha256 of the resolved config text it was made from. */
  sha: string;
  experiment: PlanContext;
  stages: Map<string, { keyed: KeyedStage; byId: Map<string, KeyedStage['shards'][number]> }>;
}

/** The views of the output directories a worker has taken jobs for. */
export class RunViews {
  private readonly views = new Map<string, Promise<RunView>>();

  constructor(
    private readonly stages: readonly Stage[],
    private readonly loadExperiment: (file: string) => Promise<PlanContext>,
    private readonly hasher: FileHasher,
    private readonly max = 8,
  ) {}

  /** The view of `outDir` for its current resolved config (loaded once per content; a failed load is not kept). */
  async get(outDir: string): Promise<RunView> {
    const file = resolvedConfigFile(outDir);
    const text = await readFile(file, 'utf8');
    const sha = sha256(text);
    const memo = `${outDir}\0${sha}`;
    let p = this.views.get(memo);
    if (!p) {
      p = (async () => {
        const loaded = await this.loadExperiment(file);
        const keyed = await planKeys(this.stages, loaded, this.hasher);
        const stages = new Map(keyed.map((ks) => [ks.stage.name, { keyed: ks, byId: new Map(ks.shards.map((s) => [s.shard.id, s])) }]));
        return { sha, experiment: { config: loaded.config, configDir: loaded.configDir }, stages };
      })();
      p.catch(() => this.views.delete(memo));
      this.views.set(memo, p);
      while (this.views.size > this.max) this.views.delete(this.views.keys().next().value!);
    }
    return p;
  }

  /** Number of views kept. */
  get size(): number {
    return this.views.size;
  }
}

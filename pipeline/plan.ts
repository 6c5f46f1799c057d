// Planning: every stage's shards with their cache keys and status (done | stale | pending) and why,
// and which of them this run computes (--from / --only / --force). Reads the manifest, writes nothing.
// Tested in test/pipeline/distributed.test.ts.
import { canonicalJson, FileHasher, shardKey, type KeyBasis } from './cache-key.ts';
import { downstreamClosure, orderStages } from './dag.ts';
import { RevcorError } from './errors.ts';
import { explainChange } from './explain.ts';
import { readStageRecords, type ShardRecord } from './manifest.ts';
import type { PlanContext, Shard, Stage } from './stage.ts';
import { checkShard } from './store.ts';

export type ShardStatus = 'done' | 'stale' | 'pending';

/** One shard of the plan. */
export interface PlannedShard {
  stage: string;
  shard: Shard;
  key: string;
  basis: KeyBasis;
  status: ShardStatus;
  /** Why it is stale or pending (empty when done). */
  reasons: string[];
  /** The manifest record of the existing checkpoint, if any. */
  record?: ShardRecord;
  /** Whether this run computes it. */
  run: boolean;
  /** Computed although done, because of --force. */
  forced: boolean;
  /** In a stage --force recomputes: computed even where the shared cache holds its key. */
  fresh?: boolean;
}

/** One stage of the plan. */
export interface StagePlan {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a plan holds stages of any config type
  stage: Stage<any>;
  shards: PlannedShard[];
  /** Selected by --from/--only (all stages when neither is given). */
  selected: boolean;
  /** Input file → sha256. */
  inputs: Record<string, string>;
  /** The canonical config slice. */
  slice: unknown;
}

/** The whole plan, stages in topological order. */
export interface Plan {
  outDir: string;
  stages: StagePlan[];
  /** Number of shards this run computes. */
  toRun: number;
  /** Total shards over all stages. */
  total: number;
}

/** Which stages a run covers and which it recomputes regardless of checkpoints. */
export interface PlanOptions {
  /** Run these stages and everything downstream of them (upstream stages must be done). */
  from?: readonly string[];
  /** Run only these stages (their upstream stages must be done). */
  only?: readonly string[];
  /** Recompute these stages and everything downstream of them even where checkpoints are current. */
  force?: readonly string[];
  /** Content-hash memo (defaults to the run directory's own, pipeline/rundir.ts hashMemoFile). */
  hasher?: FileHasher;
}

const SHARD_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

function checkNames(flag: string, names: readonly string[] | undefined, stages: readonly { name: string }[]): void {
  for (const n of names ?? []) {
    if (!stages.some((s) => s.name === n)) {
      throw new RevcorError(`--${flag} ${n}: expected one of the stages ${stages.map((s) => s.name).join(', ')}, got an unknown stage`);
    }
  }
}

/** Plans a run of `stages` for `experiment` into `outDir`. */
export async function planRun<C>(stages: readonly Stage<C>[], experiment: PlanContext<C>, outDir: string, options: PlanOptions = {}): Promise<Plan> {
  const ordered = orderStages(stages);
  checkNames('from', options.from, ordered);
  checkNames('only', options.only, ordered);
  checkNames('force', options.force, ordered);
  const selected = options.only?.length
    ? new Set(options.only)
    : options.from?.length
      ? downstreamClosure(ordered, options.from)
      : new Set(ordered.map((s) => s.name));
  const forced = downstreamClosure(ordered, options.force ?? []);
  const hasher = options.hasher ?? (await FileHasher.open(outDir));
  const byName = new Map<string, StagePlan>();
  const plans: StagePlan[] = [];

  for (const ks of await planKeys(ordered, experiment, hasher)) {
    const { stage } = ks;
    const records = await readStageRecords(outDir, stage.name);
    const isSelected = selected.has(stage.name);
    const planned: PlannedShard[] = [];
    for (const { shard, key, basis } of ks.shards) {
      const record = records.get(shard.id);
      let status: ShardStatus = 'done';
      let reasons: string[] = [];
      if (!record) {
        status = 'pending';
        reasons = ['never run'];
      } else if (record.key !== key) {
        status = 'stale';
        reasons = explainChange(record.basis, basis, (u) => firstCause(byName.get(u)));
      } else {
        const bad = await checkShard(outDir, record, hasher);
        if (bad) {
          status = 'stale';
          reasons = [bad];
        }
      }
      const isForced = isSelected && forced.has(stage.name) && status === 'done';
      planned.push({ stage: stage.name, shard, key, basis, status, reasons, record, run: isSelected && (status !== 'done' || isForced), forced: isForced, fresh: isSelected && forced.has(stage.name) });
    }
    const sp: StagePlan = { stage, shards: planned, selected: isSelected, inputs: ks.inputs, slice: ks.slice };
    byName.set(stage.name, sp);
    plans.push(sp);
  }
  checkUpstreamReady(plans, byName);
  const all = plans.flatMap((p) => p.shards);
  return { outDir, stages: plans, toRun: all.filter((s) => s.run).length, total: all.length };
}

/** One stage's shards with their cache keys, computed from the experiment, code and input files alone. */
export interface KeyedStage<C = unknown> {
  stage: Stage<C>;
  shards: { shard: Shard; key: string; basis: KeyBasis }[];
  /** Input file → sha256. */
  inputs: Record<string, string>;
  /** The canonical config slice. */
  slice: unknown;
}

/** Every stage's shards and cache keys, stages in topological order (reads no checkpoint or record). */
export async function planKeys<C>(stages: readonly Stage<C>[], experiment: PlanContext<C>, hasher: FileHasher): Promise<KeyedStage<C>[]> {
  const ctx: PlanContext<C> = { config: experiment.config, configDir: experiment.configDir };
  const byName = new Map<string, KeyedStage<C>>();
  const out: KeyedStage<C>[] = [];
  for (const stage of orderStages(stages)) {
    const shards = await stage.plan(ctx);
    const ids = new Set<string>();
    for (const s of shards) {
      if (!SHARD_ID.test(s.id)) throw new Error(`Stage ${stage.name}: expected shard ids of [A-Za-z0-9_.-], got ${JSON.stringify(s.id)}`);
      if (ids.has(s.id)) throw new Error(`Stage ${stage.name}: expected unique shard ids, got ${s.id} twice`);
      ids.add(s.id);
    }
    const slice = JSON.parse(canonicalJson(stage.configSlice(experiment.config) ?? null)) as unknown;
    const inputs: Record<string, string> = {};
    for (const f of (await stage.inputFiles?.(ctx)) ?? []) inputs[f] = await hasher.hash(f, `input file of stage ${stage.name}:`);
    const keyed: KeyedStage<C>['shards'] = [];
    for (const shard of shards) {
      let shardInputs = inputs;
      if (shard.inputFiles?.length) {
        shardInputs = { ...inputs };
        for (const f of shard.inputFiles) shardInputs[f] = await hasher.hash(f, `input file of stage ${stage.name} shard ${shard.id}:`);
      }
      const basis: KeyBasis = {
        stage: stage.name,
        version: stage.version,
        slice: stage.shardSlice ? (JSON.parse(canonicalJson(stage.shardSlice(experiment.config, shard) ?? null)) as unknown) : slice,
        params: JSON.parse(canonicalJson(shard.params)) as Record<string, unknown>,
        inputs: shardInputs,
        upstream: upstreamKeys(stage, shard, byName),
      };
      keyed.push({ shard, key: shardKey(basis), basis });
    }
    const ks: KeyedStage<C> = { stage, shards: keyed, inputs, slice };
    byName.set(stage.name, ks);
    out.push(ks);
  }
  return out;
}

const indexes = new WeakMap<KeyedStage<never>, Map<string, KeyedStage['shards'][number]>>();

/** A keyed stage's shards by id (built once). */
function indexOf<C>(sp: KeyedStage<C>): Map<string, KeyedStage['shards'][number]> {
  let m = indexes.get(sp);
  if (!m) indexes.set(sp, (m = new Map(sp.shards.map((s) => [s.shard.id, s]))));
  return m;
}

/** Upstream stage → needed shard id → key (all shards of a stage unless `shard.needs` narrows it). */
function upstreamKeys<C>(stage: Stage<C>, shard: Shard, byName: Map<string, KeyedStage<C>>): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const u of stage.upstream) {
    const up = byName.get(u)!;
    const wanted = shard.needs?.[u];
    const keys: Record<string, string> = {};
    if (wanted) {
      for (const id of wanted) {
        const found = indexOf(up).get(id);
        if (!found) {
          throw new Error(`Stage ${stage.name} shard ${shard.id} needs ${u} shard ${id}: expected one of ${up.shards.map((s) => s.shard.id).join(', ') || '(none)'}`);
        }
        keys[id] = found.key;
      }
    } else {
      for (const s of up.shards) keys[s.shard.id] = s.key;
    }
    out[u] = keys;
  }
  for (const u of Object.keys(shard.needs ?? {})) {
    if (!stage.upstream.includes(u)) throw new Error(`Stage ${stage.name} shard ${shard.id} needs ${u}, expected one of its upstream stages ${stage.upstream.join(', ')}`);
  }
  return out;
}

/** The first reason an upstream stage's shards are stale (for "upstream X changed (why)"). */
function firstCause(sp: StagePlan | undefined): string | undefined {
  return sp?.shards.find((s) => s.status === 'stale' && s.reasons.length)?.reasons[0];
}

/** Every shard this run computes must find its upstream shards done or computed in the same run. */
function checkUpstreamReady(plans: StagePlan[], byName: Map<string, StagePlan>): void {
  for (const sp of plans) {
    for (const ps of sp.shards.filter((s) => s.run)) {
      for (const [u, keys] of Object.entries(ps.basis.upstream)) {
        const up = byName.get(u)!;
        if (!up.shards.some((s) => s.shard.id in keys && s.status !== 'done' && !s.run)) continue;
        const missing = up.shards.filter((s) => s.status !== 'done' && !s.run);
        throw new RevcorError(
          `Cannot run stage ${sp.stage.name}: expected its upstream stage ${u} done, got ${missing.length} of ${up.shards.length} shards ${missing[0].status} (${missing[0].reasons[0]})`,
          { hint: `Run without --only/--from, or include ${u} (e.g. --from ${u}).` },
        );
      }
    }
  }
}

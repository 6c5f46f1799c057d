// The summary stage (docs/method.md §5): one row per analysed layer — % responsive, % significant AWA / AWC, how
// often the reconstructed RF predicts the grating tuning, tuning and category-selectivity statistics — from the
// tuning, category, awa and awc checkpoints and the layer's similarity to macaque V1 from the v1 checkpoints, read
// and summarised by results/summary.ts. A stage whose set is disabled
// gives NaN / empty columns. After a run, the report finalizer (report/finalizers.ts) writes summary.csv and
// report.html from it. Tested in test/stages/summary.test.ts.
import type { Experiment } from '../config/schema.ts';
import type { Stage, StageContext } from '../pipeline/stage.ts';
import type { UpstreamReader } from '../results/reader.ts';
import { summarise, summaryTable, SUMMARY_SHARD } from '../results/summary.ts';

export { SUMMARY_SHARD };

/** The stages the summary reads. */
export const SUMMARY_UPSTREAM = ['tuning', 'category', 'awa', 'awc', 'v1'] as const;

/** An UpstreamReader over a running shard's upstream views. */
function stageReader(ctx: StageContext<Experiment>): UpstreamReader {
  return {
    shards: (stage) => ctx.upstream(stage).shards.map((s) => s.id),
    read: (stage, id) => ctx.upstream(stage).read(id),
  };
}

/** The summary stage. */
export const summaryStage: Stage<Experiment> = {
  name: 'summary',
  description: 'per-layer table: % responsive, % significant AWA/AWC, RF-predicted tuning matches, orientation agreement and correlations, tuning and category statistics, V1 similarity, each with n and an interval (docs/method.md §5)',
  version: '4', // 2: median_n_eff column; 3: 95% intervals and n for every statistic, theta agreement, AWA under both nulls, reliable category preference; 4: median_ori_bandwidth, v1_* columns
  upstream: SUMMARY_UPSTREAM,
  configSlice: (config: Experiment) => ({ prediction: config.prediction, layers: config.model.layers, color: config.stimuli.noise.color, summary: config.summary, awa: { nullModel: config.awa.nullModel, zThreshold: config.awa.zThreshold } }),
  plan: () => [{ id: SUMMARY_SHARD, params: {} }],
  async run(_shard, ctx) {
    const rows = await summarise(ctx.config, stageReader(ctx));
    ctx.progress(1);
    return summaryTable(rows, ctx.config);
  },
};

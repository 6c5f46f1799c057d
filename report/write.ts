// Writes a run's derived outputs: <out>/summary/summary.csv and <out>/report.html — after every run in which
// the summary stage is done (Stage.finalize), skipped when both are already current; and on demand from an
// output directory (`revcor report DIR`), from the checkpoints alone.
// Tested in test/stages/summary.test.ts.
import type { Experiment } from '../config/schema.ts';
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../pipeline/atomic.ts';
import type { FinalizeContext } from '../pipeline/stage.ts';
import { buildReport, REPORT_VERSION } from './build.ts';
import { summaryCsv } from './csv.ts';
import { openRunDir, sourceFromFinalize } from './source.ts';

/** Paths of the derived files, relative to the output directory. */
export const REPORT_FILE = 'report.html';
export const SUMMARY_CSV = join('summary', 'summary.csv');

/** The stamp written in an existing report.html (read from its head), or null. */
export async function reportStamp(path: string): Promise<string | null> {
  try {
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(2048);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return /<meta name="revcor-report-stamp" content="([^"]*)">/.exec(buf.subarray(0, bytesRead).toString('utf8'))?.[1] ?? null;
    } finally {
      await fh.close();
    }
  } catch {
    return null;
  }
}

/** Stage.finalize of the summary stage: summary.csv and report.html unless both are current. */
export async function writeRunOutputs(ctx: FinalizeContext<Experiment>): Promise<void> {
  const src = await sourceFromFinalize(ctx);
  const summary = await src.read('summary', 'summary');
  const stamp = `${REPORT_VERSION}:${summary.schema.metadata.get('revcor.key') ?? ''}`;
  const current = !ctx.changed && existsSync(join(ctx.outDir, SUMMARY_CSV)) && (await reportStamp(join(ctx.outDir, REPORT_FILE))) === stamp;
  if (current) return;
  const t0 = Date.now();
  ctx.log('writing report.html…');
  const built = await buildReport(src);
  await ctx.writeFile(SUMMARY_CSV, summaryCsv(built.rows));
  await ctx.writeFile(REPORT_FILE, built.html);
  const mb = (Buffer.byteLength(built.html) / 1e6).toFixed(1);
  ctx.log(`wrote ${join(ctx.outDir, REPORT_FILE)} (${built.units} units, ${mb} MB, ${((Date.now() - t0) / 1000).toFixed(1)} s) and ${join(ctx.outDir, SUMMARY_CSV)}`);
}

/** `revcor report DIR`: rebuilds report.html (and summary.csv when the summary checkpoint exists) from the checkpoints. */
export async function writeReportFromDir(dir: string, onLayer?: (layer: string, units: number) => void) {
  const src = await openRunDir(dir);
  const t0 = Date.now();
  const built = await buildReport(src, { onLayer });
  const path = join(src.outDir, REPORT_FILE);
  await writeFileAtomic(path, built.html);
  let csv: string | null = null;
  if (built.fromCheckpoint) {
    csv = join(src.outDir, SUMMARY_CSV);
    await writeFileAtomic(csv, summaryCsv(built.rows));
  }
  return { path, csv, bytes: Buffer.byteLength(built.html), seconds: (Date.now() - t0) / 1000, layers: built.layers, units: built.units, fromCheckpoint: built.fromCheckpoint };
}

// Reads the V1 reference data (`v1.reference`, default ../shared/datasets/v1-reference beside a clone):
// ringach2002.csv (one recorded neuron per row) and histograms.json (bin edges and counts). Every problem a user
// can cause is an InputError naming the file and the config key; the science lives in science/v1-reference.ts.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CsvError, parse } from 'csv-parse/sync';
import * as z from 'zod'; // a namespace import lets the bundle drop zod's 60-odd message locales (only English is used)
import { InputError } from '../pipeline/errors.ts';
import { V1_PROPERTIES } from '../science/v1-catalogue.ts';
import { buildV1Reference, RINGACH_COLUMNS, ringachProperties, type HistogramFile, type RingachColumns, type RingachProperties, type V1Reference } from '../science/v1-reference.ts';

/** The config key every reference error names. */
export const V1_REFERENCE_KEY = 'v1.reference';

/** The files of the reference folder. */
export const V1_REFERENCE_FILES = { ringach: 'ringach2002.csv', histograms: 'histograms.json' } as const;

const EXPECTED = `Expected a folder holding ${V1_REFERENCE_FILES.ringach} and ${V1_REFERENCE_FILES.histograms} (../shared/datasets/v1-reference beside a clone)`;

/** Whether the reference folder holds both files: their absolute paths, or why not. */
export async function referenceFiles(dir: string): Promise<{ files: string[]; missing: string | null }> {
  const files = [join(dir, V1_REFERENCE_FILES.ringach), join(dir, V1_REFERENCE_FILES.histograms)];
  for (const f of files) {
    try {
      if (!(await stat(f)).isFile()) return { files: [], missing: `${f} is not a file` };
    } catch {
      return { files: [], missing: `${f} not found` };
    }
  }
  return { files, missing: null };
}

/** The InputError for a missing reference folder or file (ifMissing: error). */
export function missingReferenceError(missing: string): InputError {
  return new InputError(`${V1_REFERENCE_KEY}: ${missing}. ${EXPECTED}; point ${V1_REFERENCE_KEY} at it, or set v1.ifMissing: skip to measure the properties without the comparison.`);
}

/** Parses ringach2002.csv into the columns the comparison reads (numbers; '' and NaN are NaN). */
export function parseRingachCsv(text: string, file: string): RingachColumns {
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, { columns: true, skip_empty_lines: true, trim: true, info: true });
  } catch (e) {
    const where = e instanceof CsvError && e.lines ? `:${e.lines}` : '';
    throw new InputError(`${V1_REFERENCE_KEY}: ${file}${where}: malformed CSV (${(e as Error).message}). Expected one header line and one row per neuron.`);
  }
  const header = records.length > 0 ? Object.keys(records[0]!.record) : [];
  const absent = RINGACH_COLUMNS.filter((c) => !header.includes(c));
  if (records.length === 0 || absent.length > 0) {
    throw new InputError(`${V1_REFERENCE_KEY}: ${file}: Expected the columns ${RINGACH_COLUMNS.join(', ')} and at least one row, got ${records.length === 0 ? 'no rows' : `no column ${absent.join(', ')} (columns: ${header.join(', ')})`}.`);
  }
  const out = Object.fromEntries(RINGACH_COLUMNS.map((c) => [c, new Float64Array(records.length)])) as unknown as RingachColumns;
  records.forEach(({ record, info }, r) => {
    for (const c of RINGACH_COLUMNS) {
      const s = record[c]!;
      const v = s === '' || /^nan$/i.test(s) ? NaN : Number(s);
      if (Number.isNaN(v) && !(s === '' || /^nan$/i.test(s))) {
        throw new InputError(`${V1_REFERENCE_KEY}: ${file}:${info.lines}: column ${c}: Expected a number, got ${JSON.stringify(s)}.`);
      }
      out[c][r] = v;
    }
  });
  return out;
}

const HistogramSchema = z
  .object({ bin_edges: z.array(z.number()).min(2), counts: z.array(z.number().int().min(0)) })
  .refine((h) => h.counts.length === h.bin_edges.length - 1, { message: 'Expected one count per bin (bin_edges.length − 1)' })
  .refine((h) => h.bin_edges.every((e, i) => i === 0 || e > h.bin_edges[i - 1]!), { message: 'Expected ascending bin_edges' });

/** Parses histograms.json and checks every histogram the comparison uses (bin_edges ascending, one count per bin). */
export function parseHistograms(text: string, file: string): HistogramFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${V1_REFERENCE_KEY}: ${file}: malformed JSON (${(e as Error).message}). Expected {dataset: {property: {bin_edges, counts}}}.`);
  }
  const out: HistogramFile = {};
  for (const p of V1_PROPERTIES) {
    const raw = (json as Record<string, Record<string, unknown> | undefined> | null)?.[p.dataset]?.[p.histogram];
    const where = `${p.dataset}.${p.histogram}`;
    if (raw === undefined) throw new InputError(`${V1_REFERENCE_KEY}: ${file}: Expected a histogram ${where} {bin_edges, counts}, got none.`);
    const r = HistogramSchema.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      const path = [where, ...issue.path.map(String)].join('.');
      throw new InputError(`${V1_REFERENCE_KEY}: ${file}: ${path}: ${issue.message.startsWith('Expected') ? issue.message : `Expected ${issue.message}`}.`);
    }
    (out[p.dataset] ??= {})[p.histogram] = r.data;
  }
  return out;
}

/** The reference as read from `dir`: every compared property's distribution, and the Ringach neurons behind it. */
export interface LoadedV1Reference {
  dir: string;
  reference: V1Reference;
  ringach: RingachProperties;
  histograms: HistogramFile;
}

/** Reads and checks the reference folder (InputError naming v1.reference and the file on any problem). */
export async function readV1Reference(dir: string): Promise<LoadedV1Reference> {
  const { missing } = await referenceFiles(dir);
  if (missing) throw missingReferenceError(missing);
  const csvPath = join(dir, V1_REFERENCE_FILES.ringach);
  const jsonPath = join(dir, V1_REFERENCE_FILES.histograms);
  const ringach = ringachProperties(parseRingachCsv(await readFile(csvPath, 'utf8'), csvPath));
  const histograms = parseHistograms(await readFile(jsonPath, 'utf8'), jsonPath);
  return { dir, reference: buildV1Reference(ringach, histograms), ringach, histograms };
}

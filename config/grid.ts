// Experiment grids: a YAML file that `extends` an experiment and adds `grid:` (every combination of the listed values,
// the first key varying slowest) or `points:` (an explicit list of settings, for designs that are not rectangular).
// It loads into one validated experiment per point, each with a readable name (`count=20000,crop=effective`) that
// is the point's directory. Values are validated like any key: file:line:column, key path, did-you-mean.
import { basename, resolve } from 'node:path';
import { canonicalJson, sha256 } from '../pipeline/cache-key.ts';
import { ConfigError } from '../pipeline/errors.ts';
import { loadExperiment, type LoadedExperiment } from './load.ts';
import { renderValue } from './schema-help.ts';
import { PATH_KEYS } from './schema.ts';
import { isMapping } from './tree.ts';
import { formatOrigin, readYamlSource, type Origin, type YamlSource } from './yaml-source.ts';

/** The top-level keys that make a YAML file a grid. */
export const GRID_KEYS = ['grid', 'points'] as const;

/** Keys a grid may not vary: the chain of files, and where each point's outputs go. */
const FIXED = ['extends', 'run.out', 'run.cache'];

const KEY_PATH = /^[A-Za-z_][\w-]*(\.[\w-]+)*$/;

/** One setting of a point: a key path, its value and where the value was written. */
export interface Setting {
  key: string;
  value: unknown;
  origin: Origin;
  /** Origins of the parts of a list or mapping value, by their path below the key ('0', 'mean.1'). */
  inner: Map<string, Origin>;
}

/** One point of a grid: its directory name, its settings and its validated experiment. */
export interface GridPoint {
  name: string;
  settings: Setting[];
  experiment: LoadedExperiment;
}

/** A loaded grid file. */
export interface LoadedGrid {
  file: string;
  /** `grid` (rectangular) or `points` (explicit list). */
  kind: (typeof GRID_KEYS)[number];
  /** The varied key paths, in the order they were written. */
  keys: string[];
  points: GridPoint[];
  /** run.out when the grid file itself sets it (absolute), else undefined. */
  out?: string;
}

/** Whether the YAML file at `file` is a grid (has `grid:` or `points:` at its top level). */
export async function isGridFile(file: string): Promise<boolean> {
  const src = await readYamlSource(resolve(file));
  return isMapping(src.value) && GRID_KEYS.some((k) => k in (src.value as Record<string, unknown>));
}

/** Loads a grid file and validates every point (`overrides`: --set arguments, applied to all); null if not a grid. */
export async function loadGrid(file: string, overrides: string[] = []): Promise<LoadedGrid | null> {
  const abs = resolve(file);
  const src = await readYamlSource(abs);
  const top = src.value;
  if (!isMapping(top) || !GRID_KEYS.some((k) => k in top)) return null;
  const at = (path: string, atKey = false) => formatOrigin(src.origins.get(path) ?? src.root, atKey);
  if ('grid' in top && 'points' in top) throw new ConfigError(`${at('points', true)}: points: Expected either grid: (every combination) or points: (a list), got both.`);
  const kind = 'grid' in top ? 'grid' : 'points';
  const settings = kind === 'grid' ? gridPoints(top.grid, src, at) : listedPoints(top.points, src, at);
  const keys = [...new Set(settings.flatMap((p) => p.map((s) => s.key)))];
  for (const o of overrides) {
    const k = o.slice(0, Math.max(0, o.indexOf('=')));
    const clash = keys.find((g) => g === k || g.startsWith(`${k}.`) || k.startsWith(`${g}.`));
    if (clash) {
      const where = formatOrigin(settings.flat().find((s) => s.key === clash)!.origin, true);
      throw new ConfigError(`--set ${o}: ${k}: Expected a key the grid does not vary, got ${k}, which the grid varies (${clash} at ${where}).`);
    }
  }
  const names = pointNames(settings);
  const errors: string[] = [];
  const points: GridPoint[] = [];
  for (const [i, ss] of settings.entries()) {
    try {
      points.push({ name: names[i]!, settings: ss, experiment: await loadExperiment(abs, overrides, { omit: GRID_KEYS, layer: pointLayer(abs, ss) }) });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      errors.push(...e.message.split('\n'));
    }
  }
  if (errors.length) {
    const unique = [...new Set(errors)];
    throw new ConfigError(unique.length <= 12 ? unique.join('\n') : [...unique.slice(0, 12), `… and ${unique.length - 12} more problems`].join('\n'));
  }
  const run = top.run;
  return { file: abs, kind, keys, points, out: isMapping(run) && 'out' in run ? points[0]?.experiment.config.run.out : undefined };
}

type At = (path: string, atKey?: boolean) => string;

/** Checks one varied key path (a dotted path that a grid may vary). */
function checkKey(key: string, where: string, what: string): void {
  if (!KEY_PATH.test(key)) throw new ConfigError(`${where}: ${what}: Expected a dotted key path such as stimuli.noise.count, got ${JSON.stringify(key)}.`);
  const fixed = FIXED.find((f) => key === f || f.startsWith(`${key}.`));
  if (fixed) throw new ConfigError(`${where}: ${what}: Expected a key that changes a point's results, got ${key}${fixed === key ? '' : ` (it holds ${fixed})`}: every point's run.out is its own folder under --out, and extends and run.cache are shared.`);
}

/** Origins of the parts of a value written at `path` in the source, keyed by their path below it. */
function innerOrigins(src: YamlSource, path: string): Map<string, Origin> {
  const out = new Map<string, Origin>();
  for (const [k, o] of src.origins) if (k.startsWith(`${path}.`)) out.set(k.slice(path.length + 1), o);
  return out;
}

/** A key's origin as the place of its value, with the key's own position for "unknown key" messages. */
function settingOrigin(src: YamlSource, keyPath: string, valuePath: string): Origin {
  const k = src.origins.get(keyPath) ?? src.root;
  const v = src.origins.get(valuePath) ?? k;
  if (k.kind !== 'file' || v.kind !== 'file') return v;
  return { ...v, keyLine: k.keyLine, keyCol: k.keyCol };
}

/** `grid:` as the list of its points' settings (cartesian product, first key slowest). */
function gridPoints(grid: unknown, src: YamlSource, at: At): Setting[][] {
  if (!isMapping(grid) || Object.keys(grid).length === 0) {
    throw new ConfigError(`${at('grid')}: grid: Expected a mapping of key paths to lists of values (stimuli.noise.count: [5000, 20000]), got ${renderValue(grid)}.`);
  }
  const axes: Setting[][] = [];
  for (const [key, values] of Object.entries(grid)) {
    checkKey(key, at(`grid.${key}`, true), `grid: ${key}`);
    if (!Array.isArray(values) || values.length === 0) {
      const hint = isMapping(values) ? ` (write the key path in full: ${key}.${Object.keys(values)[0] ?? 'key'}: [a, b])` : '';
      throw new ConfigError(`${at(`grid.${key}`)}: grid: ${key}: Expected a non-empty list of values${hint}, got ${renderValue(values)}.`);
    }
    const seen = new Map<string, number>();
    axes.push(
      values.map((value, i) => {
        const c = canonicalJson(value ?? null);
        if (seen.has(c)) throw new ConfigError(`${at(`grid.${key}.${i}`)}: grid: ${key}: Expected distinct values, got ${renderValue(value)} twice (items ${seen.get(c)! + 1} and ${i + 1}).`);
        seen.set(c, i);
        return { key, value, origin: settingOrigin(src, `grid.${key}`, `grid.${key}.${i}`), inner: innerOrigins(src, `grid.${key}.${i}`) };
      }),
    );
  }
  return axes.reduce<Setting[][]>((acc, axis) => acc.flatMap((p) => axis.map((s) => [...p, s])), [[]]);
}

/** `points:` as the list of its points' settings (nested mappings flattened to key paths). */
function listedPoints(points: unknown, src: YamlSource, at: At): Setting[][] {
  if (!Array.isArray(points) || points.length === 0) {
    throw new ConfigError(`${at('points')}: points: Expected a non-empty list of mappings of key paths to values ([{awc.crop: effective}, {stimuli.noise.count: 80000}]), got ${renderValue(points)}.`);
  }
  const seen = new Map<string, number>();
  return points.map((p, i) => {
    if (!isMapping(p)) throw new ConfigError(`${at(`points.${i}`)}: points: item ${i + 1}: Expected a mapping of key paths to values, got ${renderValue(p)}.`);
    const out: Setting[] = [];
    const walk = (m: Record<string, unknown>, prefix: string): void => {
      for (const [k, v] of Object.entries(m)) {
        const key = prefix ? `${prefix}.${k}` : k;
        const path = `points.${i}.${key}`;
        if (isMapping(v) && Object.keys(v).length > 0 && !PATH_KEYS.includes(key)) walk(v, key);
        else {
          checkKey(key, at(path, true), `points: item ${i + 1}`);
          out.push({ key, value: v, origin: settingOrigin(src, path, path), inner: innerOrigins(src, path) });
        }
      }
    };
    walk(p, '');
    const c = canonicalJson(Object.fromEntries(out.map((s) => [s.key, s.value ?? null])));
    if (seen.has(c)) throw new ConfigError(`${at(`points.${i}`)}: points: item ${i + 1}: Expected distinct points, got the same settings as item ${seen.get(c)! + 1}.`);
    seen.set(c, i);
    return out;
  });
}

/** A point's settings as a loader layer: the values as a tree, each key path with the origin of its value. */
function pointLayer(file: string, settings: readonly Setting[]): YamlSource {
  const value: Record<string, unknown> = {};
  const origins = new Map<string, Origin>();
  for (const s of settings) {
    const segs = s.key.split('.');
    let node = value;
    for (const [j, seg] of segs.slice(0, -1).entries()) {
      node = (isMapping(node[seg]) ? node[seg] : (node[seg] = {})) as Record<string, unknown>;
      origins.set(segs.slice(0, j + 1).join('.'), s.origin);
    }
    node[segs[segs.length - 1]!] = structuredClone(s.value ?? null);
    origins.set(s.key, s.origin);
    for (const [sub, o] of s.inner) origins.set(`${s.key}.${sub}`, o);
  }
  const root = settings[0]?.origin ?? ({ kind: 'file', file, line: 1, col: 1, keyLine: 1, keyCol: 1 } as Origin);
  return { file, value, origins, root };
}

/** A value as it appears in a point's name: scalars as written, lists joined by +, paths by their file name. */
function valueText(key: string, v: unknown): string {
  if (Array.isArray(v)) return v.map((x) => valueText(key, x)).join('+');
  if (typeof v === 'string') return PATH_KEYS.includes(key) ? basename(v) : v;
  if (isMapping(v)) return Object.entries(v).map(([k, x]) => `${k}-${valueText(key, x)}`).join('+');
  return String(v);
}

/** Each key's shortest dotted suffix that no other key of the grid shares ('stimuli.noise.count' → 'count'). */
export function keyLabels(keys: readonly string[]): Map<string, string> {
  const suffix = (k: string, n: number) => k.split('.').slice(-n).join('.');
  const out = new Map<string, string>();
  for (const k of keys) {
    let n = 1;
    while (n < k.split('.').length && keys.some((o) => o !== k && suffix(o, n) === suffix(k, n))) n++;
    out.set(k, suffix(k, n));
  }
  return out;
}

/** Directory names of the points: `label=value` joined by commas in the order written ('base' for no settings). */
export function pointNames(points: readonly (readonly Pick<Setting, 'key' | 'value' | 'origin'>[])[]): string[] {
  const labels = keyLabels([...new Set(points.flatMap((p) => p.map((s) => s.key)))]);
  const names = points.map((p) => {
    // = and , separate the settings: inside a value they become _ like any character a file name should not hold
    let name = p.map((s) => `${labels.get(s.key)}=${valueText(s.key, s.value).replace(/[^A-Za-z0-9_.+@%-]/g, '_')}`).join(',').replace(/^\./, '_') || 'base';
    if (name.length > 200) name = `${name.slice(0, 180)}-${sha256(name).slice(0, 12)}`;
    return name;
  });
  const first = new Map<string, number>();
  names.forEach((n, i) => {
    if (first.has(n)) {
      const o = points[i]![0]?.origin;
      throw new ConfigError(`${formatOrigin(o)}: Expected every point of the grid to get its own directory name, got ${n} for two points (items ${first.get(n)! + 1} and ${i + 1}): their values differ only in characters a name cannot hold.`);
    }
    first.set(n, i);
  });
  return names;
}

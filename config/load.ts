// Loads an experiment: YAML file(s) joined by `extends`, `--set` overrides, paths resolved relative to the file
// that set them, validated by the zod schema with file:line:column, key path and "Expected X, got Y" messages.
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Document, parse as parseYamlValue } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../pipeline/errors.ts';
import { packageFile } from '../pipeline/package-files.ts';
import { crossChecks } from './checks.ts';
import { describeSchema, keysAt, renderValue, schemaAt, suggestKey } from './schema-help.ts';
import { ExperimentSchema, PATH_KEYS, type Experiment } from './schema.ts';
import { deepMerge, getPath, isMapping, treePaths } from './tree.ts';
import { displayPath, formatOrigin, readYamlSource, type Origin, type YamlSource } from './yaml-source.ts';

/** The folder holding the shipped experiments; schema defaults for paths are relative to it. */
export const CONFIG_DIR = packageFile('config');

/** The experiment used when no file is given: <package root>/config/default.yaml. */
export const DEFAULT_CONFIG = resolve(CONFIG_DIR, 'default.yaml');

/** A validated experiment and where it came from. */
export interface LoadedExperiment {
  /** Every default filled in; path keys absolute. */
  config: Experiment;
  /** Absolute path of the file loaded (the last of an `extends` chain). */
  file: string;
  /** Its directory. */
  configDir: string;
  /** Absolute paths of every YAML file read, base first (the `extends` chain), the loaded file last. */
  sources: string[];
  /** The `--set key=value` arguments applied, in order. */
  overrides: string[];
  /** Where a key path's value was set ('config/x.yaml:12:5', '--set k=v'), or undefined for a default. */
  origin(path: string): string | undefined;
}

const MAX_MESSAGES = 12;

/** Loads, merges, overrides and validates an experiment; every user mistake is a ConfigError. */
export async function loadExperiment(file: string | undefined, overrides: string[] = []): Promise<LoadedExperiment> {
  const top = resolve(file ?? DEFAULT_CONFIG);
  const layers = await loadChain(top, []);
  let merged: unknown = {};
  for (const layer of layers) merged = deepMerge(merged, layer.value);
  const setLayers = overrides.map(parseOverride);
  for (const s of setLayers) merged = deepMerge(merged, s.value);
  const topLayer = layers[layers.length - 1];
  const ext = topLayer.extendsResolved;
  if (isMapping(merged)) {
    if (ext) merged.extends = ext;
    else delete merged.extends;
  }

  const sources: YamlSource[] = [...setLayers].reverse().concat([...layers].reverse());
  const originOf = (path: string): Origin | undefined => {
    for (const s of sources) {
      const o = s.origins.get(path);
      if (o) return o;
    }
    return undefined;
  };
  const where = (path: readonly (string | number)[], atKey = false): string => {
    for (let n = path.length; n > 0; n--) {
      const o = originOf(path.slice(0, n).join('.'));
      if (o) return formatOrigin(o, atKey && n === path.length);
    }
    const o = topLayer.root;
    return formatOrigin(o);
  };

  if (!isMapping(merged)) {
    throw new ConfigError(`${where([])}: Expected a mapping of experiment keys (${keysAt([]).join(', ')}), got ${renderValue(merged)}.`);
  }
  const parsed = ExperimentSchema.safeParse(merged);
  if (!parsed.success) {
    const messages = parsed.error.issues.flatMap((i) => issueMessages(i, [], merged, where));
    throw new ConfigError(capMessages(messages));
  }
  const config = parsed.data;
  // Path keys left at their schema default are relative to the shipped config folder.
  for (const key of PATH_KEYS) {
    if (originOf(key)) continue;
    const segs = key.split('.');
    const parent = getPath(config, segs.slice(0, -1)) as Record<string, unknown>;
    const leaf = segs[segs.length - 1];
    parent[leaf] = resolvePathValue(key, parent[leaf] as string, CONFIG_DIR);
  }
  const cross = crossChecks(config);
  if (cross.length) {
    throw new ConfigError(
      capMessages(
        cross.map((c) => {
          const blamed = c.paths.find((p) => originOf(p)) ?? c.paths[0];
          return `${where(blamed.split('.'))}: ${blamed}: ${c.message}.`;
        }),
      ),
    );
  }
  return {
    config,
    file: top,
    configDir: dirname(top),
    sources: layers.map((l) => l.file),
    overrides: [...overrides],
    origin: (path) => {
      const o = originOf(path);
      return o ? formatOrigin(o) : undefined;
    },
  };
}

interface Layer extends YamlSource {
  /** Absolute path of the file this one extends. */
  extendsResolved?: string;
}

/** The `extends` chain ending at `file`, base first; cycles and missing files are errors. */
async function loadChain(file: string, stack: string[]): Promise<Layer[]> {
  const src = await readYamlSource(file);
  const shown = displayPath(file);
  if (src.value === null || src.value === undefined) src.value = {};
  if (!isMapping(src.value)) {
    throw new ConfigError(`${formatOrigin(src.root)}: Expected a mapping of experiment keys (${keysAt([]).join(', ')}), got ${renderValue(src.value)}.`);
  }
  const value = src.value;
  let base: Layer[] = [];
  const layer: Layer = { ...src };
  if ('extends' in value) {
    const ext = value.extends;
    const at = formatOrigin(src.origins.get('extends'));
    if (typeof ext !== 'string' || ext.length === 0) {
      throw new ConfigError(`${at}: extends: Expected a path to another YAML experiment (relative to ${shown}), got ${renderValue(ext)}.`);
    }
    const target = resolve(dirname(file), expandHome(ext));
    const chain = [...stack, file];
    if (chain.includes(target)) {
      const cycle = [...chain.slice(chain.indexOf(target)), target].map(displayPath).join(' → ');
      throw new ConfigError(`${at}: extends: cycle ${cycle}. Expected a chain of files that ends in a file without \`extends\`.`);
    }
    try {
      base = await loadChain(target, chain);
    } catch (e) {
      if (e instanceof ConfigError && /config file (not found|is a folder|cannot be read)/.test(e.message) && e.message.startsWith(displayPath(target))) {
        throw new ConfigError(`${at}: extends: ${e.message.replace(/^[^:]*: /, '')} (${displayPath(target)}, relative to ${shown}).`);
      }
      throw e;
    }
    layer.extendsResolved = target;
    delete value.extends;
  }
  for (const key of PATH_KEYS) {
    const segs = key.split('.');
    const parent = getPath(value, segs.slice(0, -1));
    const leaf = segs[segs.length - 1];
    if (isMapping(parent) && typeof parent[leaf] === 'string') parent[leaf] = resolvePathValue(key, parent[leaf] as string, dirname(file));
  }
  return [...base, layer];
}

/** '~/x' → home directory; other paths unchanged. */
function expandHome(p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? resolve(homedir(), p.slice(2)) : p;
}

/** A path key's value made absolute against `dir` (model.weights keeps its keywords auto and seeded). */
function resolvePathValue(key: string, v: string, dir: string): string {
  if (key === 'model.weights' && (v === 'auto' || v === 'seeded')) return v;
  if (v.length === 0) return v;
  const p = expandHome(v);
  return isAbsolute(p) ? p : resolve(dir, p);
}

/** One `--set key=value` as a one-key layer (value parsed as a YAML scalar or flow collection). */
function parseOverride(arg: string): YamlSource {
  const eq = arg.indexOf('=');
  const key = eq < 0 ? arg : arg.slice(0, eq);
  const origin: Origin = { kind: 'set', arg };
  if (eq <= 0 || !/^[A-Za-z_][\w-]*(\.[\w-]+)*$/.test(key)) {
    throw new ConfigError(`--set ${arg}: Expected key=value with a dotted key path, e.g. --set stimuli.noise.count=500, got ${JSON.stringify(arg)}.`);
  }
  if (key === 'extends') throw new ConfigError(`--set ${arg}: extends: Expected extends in a YAML file; --set cannot change the chain of files.`);
  let value: unknown;
  try {
    value = parseYamlValue(arg.slice(eq + 1));
  } catch (e) {
    throw new ConfigError(`--set ${arg}: ${key}: Expected a YAML scalar or flow value (500, true, abc, [a, b], {k: v}), got ${JSON.stringify(arg.slice(eq + 1))}: ${(e as Error).message.split('\n')[0]}.`);
  }
  if (value === undefined) value = null;
  const segs = key.split('.');
  if (PATH_KEYS.includes(key) && typeof value === 'string') value = resolvePathValue(key, value, process.cwd());
  let tree: unknown = value;
  for (let i = segs.length - 1; i >= 0; i--) tree = { [segs[i]]: tree };
  const origins = new Map<string, Origin>();
  for (let i = 1; i <= segs.length; i++) origins.set(segs.slice(0, i).join('.'), origin);
  for (const p of treePaths(value)) origins.set(`${key}.${p}`, origin);
  return { file: '--set', value: tree, origins, root: origin };
}

type Issue = z.core.$ZodIssue;

/** User-facing lines for one zod issue (unknown keys get one line each with a suggestion). */
function issueMessages(issue: Issue, prefix: (string | number)[], input: unknown, where: (p: readonly (string | number)[], atKey?: boolean) => string): string[] {
  const path = [...prefix, ...issue.path.map((s) => (typeof s === 'symbol' ? String(s) : s))];
  const keyPath = path.join('.');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => {
      const parent = path.map(String);
      const full = [...parent, k].join('.');
      const valid = keysAt(parent);
      const guess = suggestKey(parent, k);
      const level = parent.length ? `\`${parent.join('.')}\`` : 'the top level';
      if (k === '') {
        return `${where([...path, k], true)}: ${full}: a key that YAML reads as empty (null, ~ or nothing). Expected one of the keys of ${level}: ${valid.join(', ')}.`;
      }
      return (
        `${where([...path, k], true)}: ${full}: unknown key${guess ? `, did you mean \`${guess}\`?` : '.'}` +
        ` Expected one of the keys of ${level}: ${valid.join(', ')}.`
      );
    });
  }
  if (issue.code === 'invalid_union') {
    // When one branch matched the value's shape (e.g. a list) and failed inside it, report that inner problem.
    const inner = issue.errors.filter((branch) => branch.length > 0 && branch.every((i) => i.path.length > 0));
    if (inner.length === 1) return inner[0].flatMap((i) => issueMessages(i, path, input, where));
  }
  const expected = describeSchema(schemaAt(path));
  return [`${where(path)}: ${keyPath || '(top level)'}: Expected ${expected}, got ${renderValue(getPath(input, path))}.`];
}

function capMessages(lines: string[]): string {
  const unique = [...new Set(lines)];
  return unique.length <= MAX_MESSAGES ? unique.join('\n') : [...unique.slice(0, MAX_MESSAGES), `… and ${unique.length - MAX_MESSAGES} more problems`].join('\n');
}

/** The experiment as YAML with every default filled in (what a run records as its resolved experiment, pipeline/rundir.ts). */
export function toResolvedYaml(config: Experiment, sources: readonly string[] = []): string {
  const { extends: ext, ...rest } = config;
  const doc = new Document(rest);
  const lines = [
    ' revcor experiment, resolved: every default filled in, every path absolute.',
    ' Running this file reproduces the run (`revcor run <this file>`); edit the source YAML instead.',
  ];
  if (sources.length) lines.push(` Sources (base first): ${sources.join(', ')}`);
  else if (ext) lines.push(` Extended: ${ext}`);
  doc.commentBefore = lines.join('\n');
  return doc.toString({ lineWidth: 0 });
}

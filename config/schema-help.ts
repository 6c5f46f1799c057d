// Words for config errors, read off the zod schema: valid keys at a level, "what was expected" for a key,
// "did you mean" suggestions (fastest-levenshtein), and a short rendering of the value found.
// Tested in test/config/load.test.ts.
import { closest, distance } from 'fastest-levenshtein';
import * as z from 'zod'; // a namespace import lets the bundle drop zod's 60-odd message locales (only English is used)
import { ExperimentSchema } from './schema.ts';

/** The subset of JSON Schema that z.toJSONSchema emits for our schema. */
export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  minItems?: number;
}

let cached: JsonSchema | undefined;

/** The experiment schema as JSON Schema (input side: defaults optional), computed once. */
export function experimentJsonSchema(): JsonSchema {
  cached ??= z.toJSONSchema(ExperimentSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return cached;
}

/** The schema node at a key path (numeric segments step into list items), or undefined. */
export function schemaAt(path: readonly (string | number)[], root: JsonSchema = experimentJsonSchema()): JsonSchema | undefined {
  let node: JsonSchema | undefined = root;
  for (const seg of path) {
    if (!node) return undefined;
    const branches: JsonSchema[] = node.anyOf ?? [node];
    let next: JsonSchema | undefined;
    for (const b of branches) {
      if (typeof seg === 'number' || /^\d+$/.test(String(seg))) next ??= b.items;
      else next ??= b.properties?.[seg];
    }
    node = next;
  }
  return node;
}

/** Keys allowed in the mapping at `path` (empty when it is not a mapping). */
export function keysAt(path: readonly (string | number)[]): string[] {
  const node = schemaAt(path);
  const branches = node?.anyOf ?? (node ? [node] : []);
  return branches.flatMap((b) => Object.keys(b.properties ?? {}));
}

/** Every key path of the schema, mappings and leaves, e.g. 'stimuli', 'stimuli.noise', 'stimuli.noise.count'. */
export function allKeyPaths(node: JsonSchema = experimentJsonSchema(), prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, child] of Object.entries(node.properties ?? {})) {
    const p = prefix ? `${prefix}.${k}` : k;
    out.push(p, ...allKeyPaths(child, p));
  }
  return out;
}

const SAFE = Number.MAX_SAFE_INTEGER;

function fmt(n: number): string {
  return String(n);
}

function numberText(s: JsonSchema, noun: 'integer' | 'number'): string {
  const lo = s.exclusiveMinimum ?? s.minimum;
  const loOpen = s.exclusiveMinimum !== undefined;
  const hiRaw = s.exclusiveMaximum ?? s.maximum;
  const hi = hiRaw !== undefined && Math.abs(hiRaw) >= SAFE ? undefined : hiRaw;
  const hiOpen = s.exclusiveMaximum !== undefined;
  const an = noun === 'integer' ? 'an' : 'a';
  if (lo !== undefined && Math.abs(lo) >= SAFE) return `${an} ${noun}`;
  if (lo !== undefined && hi !== undefined) return `${an} ${noun} in ${loOpen ? '(' : '['}${fmt(lo)}, ${fmt(hi)}${hiOpen ? ')' : ']'}`;
  if (lo !== undefined) {
    if ((noun === 'integer' && lo === 1 && !loOpen) || (lo === 0 && loOpen)) return `a positive ${noun}`;
    return `${an} ${noun} ${loOpen ? '>' : '≥'} ${fmt(lo)}`;
  }
  if (hi !== undefined) return `${an} ${noun} ${hiOpen ? '<' : '≤'} ${fmt(hi)}`;
  return `${an} ${noun}`;
}

/** Plural of a description: 'a non-empty string' → 'non-empty strings'. */
function plural(desc: string): string {
  return desc.replace(/^an? /, '').replace(/\b(string|integer|number|list|mapping)\b/, '$1s');
}

/** What a schema node expects, in words: 'a positive integer', "`all` or a non-empty list of non-empty strings". */
export function describeSchema(s: JsonSchema | undefined): string {
  if (!s) return 'nothing here (this key is not part of the schema)';
  if (s.anyOf) return s.anyOf.map(describeSchema).join(' or ');
  if (s.const !== undefined) return `\`${String(s.const)}\``;
  if (s.enum) return `one of ${s.enum.map((v) => `\`${String(v)}\``).join(', ')}`;
  switch (s.type) {
    case 'boolean':
      return 'true or false';
    case 'string':
      return (s.minLength ?? 0) >= 1 ? 'a non-empty string' : 'a string';
    case 'integer':
      return numberText(s, 'integer');
    case 'number':
      return numberText(s, 'number');
    case 'array':
      return `a ${(s.minItems ?? 0) >= 1 ? 'non-empty ' : ''}list of ${s.items ? plural(describeSchema(s.items)) : 'values'}`;
    case 'object': {
      const keys = Object.keys(s.properties ?? {});
      return keys.length ? `a mapping with keys among ${keys.join(', ')}` : 'a mapping';
    }
    default:
      return 'a value';
  }
}

/** A found value as a user wrote it: -5, "abc", true, a list [..], a mapping {..}, an empty value. */
export function renderValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty value (null)';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const json = JSON.stringify(v);
  const short = json.length > 60 ? `${json.slice(0, 57)}…` : json;
  return Array.isArray(v) ? `a list ${short}` : `a mapping ${short}`;
}

/** Largest edit distance accepted as a typo of `key`. */
function typoLimit(key: string): number {
  return Math.max(2, Math.floor(key.length * 0.4));
}

/**
 * The key path a user probably meant by unknown `key` inside the mapping at `parent`: a close key at the same
 * level; else a key of that name elsewhere in the schema (`count` at the top → `stimuli.noise.count`); else the
 * closest key name anywhere.
 */
export function suggestKey(parent: readonly string[], key: string): string | undefined {
  const prefix = parent.length ? `${parent.join('.')}.` : '';
  const here = keysAt(parent);
  if (here.length) {
    const c = closest(key, here);
    if (distance(key, c) <= typoLimit(key)) return prefix + c;
  }
  const paths = allKeyPaths();
  const lower = key.toLowerCase();
  const exact = paths.filter((p) => p.split('.').pop()!.toLowerCase() === lower);
  if (exact.length) return exact.sort((a, b) => a.length - b.length)[0];
  let best: string | undefined;
  let bestD = Infinity;
  for (const p of paths) {
    const d = distance(lower, p.split('.').pop()!.toLowerCase());
    if (d < bestD || (d === bestD && best !== undefined && p.length < best.length)) {
      best = p;
      bestD = d;
    }
  }
  return best !== undefined && bestD <= typoLimit(key) ? best : undefined;
}

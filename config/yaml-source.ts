// Reads one YAML experiment file into plain data plus the source position of every key and value it sets.
// Tested in test/config/load.test.ts.
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { ConfigError } from '../pipeline/errors.ts';

/** Where a key's value came from: a position in a YAML file, or a `--set` argument. */
export type Origin =
  | { kind: 'file'; file: string; line: number; col: number; keyLine: number; keyCol: number }
  | { kind: 'set'; arg: string };

/** One parsed YAML file: its data and the origin of every key path ('stimuli.noise.count', 'model.layers.0'). */
export interface YamlSource {
  file: string;
  value: unknown;
  origins: Map<string, Origin>;
  /** Origin of the whole document (for errors about its top level). */
  root: Origin;
}

/** A file path as users see it in messages: relative to the working directory when inside it. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/** "config/x.yaml:12:5" or "--set k=v"; the key's own position when `atKey`. */
export function formatOrigin(o: Origin | undefined, atKey = false): string {
  if (!o) return '(default)';
  if (o.kind === 'set') return `--set ${o.arg}`;
  return `${displayPath(o.file)}:${atKey ? o.keyLine : o.line}:${atKey ? o.keyCol : o.col}`;
}

/** Reads and parses `file` (absolute); malformed YAML is a ConfigError with file:line:column. */
export async function readYamlSource(file: string): Promise<YamlSource> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'not found' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${code ?? String(e)})`;
    throw new ConfigError(`${displayPath(file)}: config file ${why}. Expected a YAML experiment file, e.g. config/default.yaml.`);
  }
  return parseYamlSource(file, text);
}

/** Parses YAML text that came from `file` (used for messages). */
export function parseYamlSource(file: string, text: string): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const shown = displayPath(file);
  if (doc.errors.length) {
    const err = doc.errors[0];
    const pos = err.linePos?.[0] ?? lines.linePos(err.pos[0]);
    const src = text.split(/\r?\n/)[pos.line - 1] ?? '';
    const caret = `${' '.repeat(Math.max(0, pos.col - 1))}^`;
    const msg = err.message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '').trim();
    throw new ConfigError(`${shown}:${pos.line}:${pos.col}: malformed YAML: ${msg}\n  ${src}\n  ${caret}\nExpected valid YAML (key: value mappings, indented with spaces).`);
  }
  const at = (node: Node | null | undefined, fallback: { line: number; col: number }) =>
    node?.range ? lines.linePos(node.range[0]) : fallback;
  const origins = new Map<string, Origin>();
  const top = at(doc.contents as Node | null, { line: 1, col: 1 });
  const root: Origin = { kind: 'file', file, line: top.line, col: top.col, keyLine: top.line, keyCol: top.col };

  const walk = (node: unknown, path: string[]) => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        const keyPos = at(keyNode, top);
        // Same spelling as toJS gives the key (a null key such as `null:` or `~:` becomes '').
        const key = isScalar(keyNode) ? (keyNode.value === null ? '' : String(keyNode.value)) : String(keyNode);
        const v = pair.value as Node | null;
        // An empty value (`noise:` and nothing) is reported at its key.
        const empty = !v || (isScalar(v) && v.value === null && v.range && v.range[0] === v.range[1]);
        const valPos = empty ? keyPos : at(v, keyPos);
        const p = [...path, key];
        origins.set(p.join('.'), { kind: 'file', file, line: valPos.line, col: valPos.col, keyLine: keyPos.line, keyCol: keyPos.col });
        walk(pair.value, p);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const pos = at(item as Node, top);
        const p = [...path, String(i)];
        origins.set(p.join('.'), { kind: 'file', file, line: pos.line, col: pos.col, keyLine: pos.line, keyCol: pos.col });
        walk(item, p);
      });
    }
  };
  walk(doc.contents, []);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    throw new ConfigError(`${shown}: malformed YAML: ${(e as Error).message}. Expected plain mappings, lists and scalars.`);
  }
  return { file, value: value ?? {}, origins, root };
}

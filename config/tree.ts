// Plain-data helpers for config trees: mapping test, get by key path, deep merge (lists replace, mappings merge).
// Tested in test/config/load.test.ts.

/** True for a plain mapping (not a list, not null). */
export function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Value at a key path, or undefined. */
export function getPath(root: unknown, path: readonly (string | number)[]): unknown {
  let v = root;
  for (const seg of path) {
    if (Array.isArray(v)) v = v[Number(seg)];
    else if (isMapping(v)) v = v[String(seg)];
    else return undefined;
  }
  return v;
}

/** `over` merged onto `base`: mappings merge key by key, anything else (lists included) replaces. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isMapping(base) || !isMapping(over)) return structuredClone(over);
  const out: Record<string, unknown> = { ...structuredClone(base) };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? deepMerge(out[k], v) : structuredClone(v);
  return out;
}

/** Every key path present in a tree ('a', 'a.b', 'a.list.0', …). */
export function treePaths(root: unknown, prefix = ''): string[] {
  const out: string[] = [];
  const entries: [string, unknown][] = Array.isArray(root)
    ? root.map((v, i) => [String(i), v])
    : isMapping(root)
      ? Object.entries(root)
      : [];
  for (const [k, v] of entries) {
    const p = prefix ? `${prefix}.${k}` : k;
    out.push(p, ...treePaths(v, p));
  }
  return out;
}

// Short on-screen labels for long layer names (ONNX tensor-derived names such as `layer4.layer4.1.relu_2.Relu`):
// names up to `max` characters are shown whole; longer ones keep their trailing '.'-separated parts behind an
// ellipsis, or the head and tail around one when that is not unique. The page always carries the full name on hover.
// Tested in test/report/layer-label.test.ts.

/** Longest label shown whole (characters). */
export const LABEL_MAX = 22;

/** The tail of `name` in at most `max` characters: whole trailing parts after '…' where they fit, else its last characters. */
function tailLabel(name: string, max: number): string {
  const parts = name.split('.');
  let tail = '';
  for (let i = parts.length - 1; i >= 0; i--) {
    const next = tail ? `${parts[i]}.${tail}` : parts[i]!;
    if (next.length + 1 > max) break;
    tail = next;
  }
  return `…${tail || name.slice(name.length - (max - 1))}`;
}

/** Head and tail of `name` around '…', `max` characters in all. */
function middleLabel(name: string, max: number): string {
  const head = Math.ceil((max - 1) / 2);
  return `${name.slice(0, head)}…${name.slice(name.length - (max - 1 - head))}`;
}

/** A label per layer name, unique among `names`: whole when short, else shortened (a name whose labels clash stays whole). */
export function layerLabels(names: readonly string[], max = LABEL_MAX): Map<string, string> {
  const out = new Map<string, string>();
  const taken = (label: string, self: string) => names.some((n) => n !== self && (n === label || out.get(n) === label));
  for (const n of names) out.set(n, n);
  for (const pick of [tailLabel, middleLabel]) {
    for (const n of names) {
      if (n.length <= max || out.get(n) !== n) continue;
      const label = pick(n, max);
      const clash = names.some((m) => m !== n && m.length > max && pick(m, max) === label) || taken(label, n);
      if (!clash) out.set(n, label);
    }
  }
  return out;
}

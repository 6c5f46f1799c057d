// The stage DAG as data: validation (unique names, known upstreams, no cycles), topological order, closures.
/** What the DAG functions look at: a name and upstream names. */
export interface DagNode {
  name: string;
  upstream: readonly string[];
}

const NAME = /^[A-Za-z0-9_-]+$/;

/** Stages in topological order (stable: ties keep the given order); throws on unknown upstream or a cycle. */
export function orderStages<S extends DagNode>(stages: readonly S[]): S[] {
  const byName = new Map<string, S>();
  for (const s of stages) {
    if (!NAME.test(s.name)) throw new Error(`Expected a stage name of [A-Za-z0-9_-], got ${JSON.stringify(s.name)}`);
    if (byName.has(s.name)) throw new Error(`Expected unique stage names, got ${s.name} twice`);
    byName.set(s.name, s);
  }
  for (const s of stages) {
    for (const u of s.upstream) {
      if (!byName.has(u)) {
        throw new Error(`Stage ${s.name} lists upstream ${u}: expected one of ${[...byName.keys()].join(', ')}, got an unknown stage`);
      }
    }
  }
  const order: S[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (s: S, path: string[]): void => {
    const st = state.get(s.name);
    if (st === 'done') return;
    if (st === 'visiting') {
      throw new Error(`Expected an acyclic stage graph, got the cycle ${[...path.slice(path.indexOf(s.name)), s.name].join(' → ')}`);
    }
    state.set(s.name, 'visiting');
    for (const u of s.upstream) visit(byName.get(u)!, [...path, s.name]);
    state.set(s.name, 'done');
    order.push(s);
  };
  for (const s of stages) visit(s, []);
  return order;
}

/** The named stages and every stage downstream of them (transitively). */
export function downstreamClosure(stages: readonly DagNode[], names: readonly string[]): Set<string> {
  const out = new Set(names);
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of stages) {
      if (!out.has(s.name) && s.upstream.some((u) => out.has(u))) {
        out.add(s.name);
        grew = true;
      }
    }
  }
  return out;
}

/** The named stages and every stage upstream of them (transitively). */
export function upstreamClosure(stages: readonly DagNode[], names: readonly string[]): Set<string> {
  const byName = new Map(stages.map((s) => [s.name, s]));
  const out = new Set<string>();
  const visit = (n: string): void => {
    if (out.has(n)) return;
    out.add(n);
    for (const u of byName.get(n)?.upstream ?? []) visit(u);
  };
  names.forEach(visit);
  return out;
}

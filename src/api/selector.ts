// Label selector matching, and a conservative check whether two selectors can select the same node.
import type { LabelSelector } from './meta.ts';

type Requirement = NonNullable<LabelSelector['matchExpressions']>[number];

function requirements(selector: LabelSelector | undefined): Requirement[] {
  const fromLabels = Object.entries(selector?.matchLabels ?? {}).map(([key, value]): Requirement => ({
    key,
    operator: 'In',
    values: [value],
  }));
  return [...fromLabels, ...(selector?.matchExpressions ?? [])];
}

function requirementMatches(req: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const value = labels[req.key];
  switch (req.operator) {
    case 'In':
      return value !== undefined && (req.values ?? []).includes(value);
    case 'NotIn':
      return value === undefined || !(req.values ?? []).includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
  }
}

export function selectorMatches(
  selector: LabelSelector | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  return requirements(selector).every(req => requirementMatches(req, labels));
}

/** Values a key may take under a list of requirements: null = unconstrained set, 'absent' = must be absent. */
interface KeyDomain {
  mustExist: boolean;
  mustBeAbsent: boolean;
  allowed: Set<string> | null;
  forbidden: Set<string>;
}

function domains(reqs: readonly Requirement[]): Map<string, KeyDomain> {
  const byKey = new Map<string, KeyDomain>();
  for (const req of reqs) {
    const d = byKey.get(req.key) ?? {
      mustExist: false,
      mustBeAbsent: false,
      allowed: null,
      forbidden: new Set(),
    };
    if (req.operator === 'Exists') d.mustExist = true;
    if (req.operator === 'DoesNotExist') d.mustBeAbsent = true;
    if (req.operator === 'In') {
      const values = new Set(req.values ?? []);
      d.allowed = d.allowed === null ? values : new Set([...d.allowed].filter(v => values.has(v)));
      d.mustExist = true;
    }
    if (req.operator === 'NotIn') for (const v of req.values ?? []) d.forbidden.add(v);
    byKey.set(req.key, d);
  }
  return byKey;
}

function satisfiable(d: KeyDomain): boolean {
  if (d.mustBeAbsent) return !d.mustExist;
  if (d.allowed === null) return true;
  return [...d.allowed].some(v => !d.forbidden.has(v));
}

/** True unless the two selectors provably cannot match the same label set. */
export function selectorsOverlap(a: LabelSelector | undefined, b: LabelSelector | undefined): boolean {
  const combined = domains([...requirements(a), ...requirements(b)]);
  return [...combined.values()].every(satisfiable);
}

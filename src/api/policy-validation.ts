// Everything `nodeqos validate` checks about a set of objects: schema, cross-field rules, fields the API
// server would silently drop, duplicate names, and equal-priority policies whose selectors can overlap.
import type { SourcedObject } from './documents.ts';
import { apiVersion } from './group.ts';
import { fieldProblems, formatPath } from './issues.ts';
import { planSchema } from './plan.ts';
import { policySchema, type NodeQoSPolicy } from './policy.ts';
import { selectorsOverlap } from './selector.ts';
import { unknownFields } from './unknown-fields.ts';

export interface Problem {
  readonly source: string;
  readonly object: string; // Kind/name
  readonly path: string;
  readonly message: string;
  /**
   * The cluster takes the object anyway (equal-priority overlaps are settled by name, unknown fields are pruned):
   * `validate` reports it, `nodeqos plan` warns and plans as the controller would.
   */
  readonly clusterAccepts?: true;
}

export interface ValidationResult {
  readonly policies: { source: string; policy: NodeQoSPolicy }[];
  readonly problems: Problem[];
  checked: number;
  skipped: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Paths present in the input but absent after parsing: fields the API server would prune. */
export function droppedFields(input: unknown, parsed: unknown, path: PropertyKey[] = []): string[] {
  if (Array.isArray(input) && Array.isArray(parsed)) {
    return input.flatMap((item, i) => droppedFields(item, parsed[i], [...path, i]));
  }
  if (!isRecord(input) || !isRecord(parsed)) return [];
  return Object.keys(input).flatMap(key =>
    key in parsed ? droppedFields(input[key], parsed[key], [...path, key]) : [formatPath([...path, key])],
  );
}

const schemas = { NodeQoSPolicy: policySchema, NodeIsolationPlan: planSchema } as const;

function objectLabel(object: Record<string, unknown>): string {
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  const name = typeof metadata.name === 'string' ? metadata.name : '(unnamed)';
  // Never String() an arbitrary value: a deeply nested array overflows the stack in Array#toString.
  const kind = typeof object.kind === 'string' ? object.kind : `(kind: ${typeof object.kind})`;
  return `${kind}/${name}`;
}

function validateOne(item: SourcedObject, result: ValidationResult): void {
  const kind = item.object.kind as keyof typeof schemas;
  const label = objectLabel(item.object);
  const schema = schemas[kind];
  const parsed = schema.safeParse(item.object);
  if (!parsed.success) {
    for (const p of fieldProblems(parsed.error))
      result.problems.push({ source: item.source, object: label, ...p });
  }
  // Unknown fields are reported next to the schema errors, so one run shows everything to fix.
  for (const path of unknownFields(schema, item.object)) {
    if (path.startsWith('metadata.') || path === 'status') continue;
    result.problems.push({
      source: item.source,
      object: label,
      path,
      message: 'unknown field; the API server would drop it',
      clusterAccepts: true,
    });
  }
  if (parsed.success && parsed.data.kind === 'NodeQoSPolicy')
    result.policies.push({ source: item.source, policy: parsed.data });
}

function checkNamesAndOverlaps(result: ValidationResult): void {
  const seen = new Map<string, string>();
  for (const { source, policy } of result.policies) {
    const name = policy.metadata.name;
    const first = seen.get(name);
    if (first !== undefined) {
      result.problems.push({
        source,
        object: `NodeQoSPolicy/${name}`,
        path: 'metadata.name',
        message: `duplicate of ${first}`,
      });
    }
    seen.set(name, source);
  }
  const list = result.policies;
  list.forEach(({ source, policy: a }, i) => {
    for (const { policy: b } of list.slice(i + 1)) {
      if ((a.spec.priority ?? 0) !== (b.spec.priority ?? 0) || a.metadata.name === b.metadata.name) continue;
      if (!selectorsOverlap(a.spec.nodeSelector, b.spec.nodeSelector)) continue;
      result.problems.push({
        source,
        object: `NodeQoSPolicy/${a.metadata.name}`,
        path: 'spec.nodeSelector',
        message: `can select the same nodes as NodeQoSPolicy/${b.metadata.name} at the same priority ${a.spec.priority ?? 0}; set different spec.priority values or disjoint selectors`,
        clusterAccepts: true,
      });
    }
  });
}

export function validateObjects(items: readonly SourcedObject[]): ValidationResult {
  const result: ValidationResult = { policies: [], problems: [], checked: 0, skipped: 0 };
  for (const item of items) {
    const kind = item.object.kind;
    const ours =
      item.object.apiVersion === apiVersion && typeof kind === 'string' && Object.hasOwn(schemas, kind);
    if (!ours) {
      if (typeof item.object.apiVersion === 'string' && item.object.apiVersion.startsWith('nodeqos.io/')) {
        result.problems.push({
          source: item.source,
          object: objectLabel(item.object),
          path: 'apiVersion',
          message: `unknown nodeqos kind or version; expected ${apiVersion} NodeQoSPolicy or NodeIsolationPlan`,
        });
      } else result.skipped++;
      continue;
    }
    result.checked++;
    validateOne(item, result);
  }
  checkNamesAndOverlaps(result);
  return result;
}

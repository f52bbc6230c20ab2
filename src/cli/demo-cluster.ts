// The embedded default the demo runs on: examples/policies and examples/cluster (nodes and their pods).
import { join } from 'node:path';
import { nodeSchema, podSchema } from '../api/inputs.ts';
import { validateObjects } from '../api/policy-validation.ts';
import type { DemoCluster } from '../demo/run-demo.ts';
import { readObjects } from './files.ts';
import { UsageError } from './usage-error.ts';

export const defaultExamplesDir = join(import.meta.dirname, '..', '..', 'examples');

export function loadDemoCluster(examplesDir = defaultExamplesDir): DemoCluster {
  const validation = validateObjects(readObjects([join(examplesDir, 'policies')]));
  if (validation.problems.length > 0) {
    const first = validation.problems[0];
    throw new UsageError(
      `invalid example policy: ${first?.source ?? ''}: ${first?.path ?? ''}: ${first?.message ?? ''}`,
    );
  }
  const cluster = readObjects([join(examplesDir, 'cluster')]);
  return {
    policies: validation.policies.map(p => p.policy),
    nodes: cluster.filter(o => o.object.kind === 'Node').map(o => nodeSchema.parse(o.object)),
    pods: cluster.filter(o => o.object.kind === 'Pod').map(o => podSchema.parse(o.object)),
  };
}

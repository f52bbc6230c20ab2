// The cross-field rules exist twice: as CEL in the CRD (the API server) and as predicates in zod (validate, the
// controller). This checks they agree on random policies, with the API server evaluating the CEL: the embedded
// one (@bufbuild/cel) and, when Go is present, a real kube-apiserver (cel-go), so all three agree.
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { policySchema } from '../../src/api/policy.ts';
import { KubeHttp } from '../../src/kube/http.ts';
import { policiesPath } from '../../src/kube/sources.ts';
import { apiServers, useApiServer } from '../support/api-servers.ts';

let counter = 0;

const ratio = fc.integer({ min: 0, max: 10 }).map(n => n / 10);
const memory = fc.record({ minRatio: ratio, lowRatio: ratio }, { requiredKeys: [] });
const curve = fc.array(fc.record({ pressure: fc.integer({ min: 0, max: 100 }), ratio }), {
  minLength: 1,
  maxLength: 5,
});
const requirement = fc.record({
  key: fc.constantFrom('zone', 'tier'),
  operator: fc.constantFrom('In', 'NotIn', 'Exists', 'DoesNotExist'),
  values: fc.option(fc.array(fc.constantFrom('a', 'b'), { maxLength: 2 }), { nil: undefined }),
});
const pct = fc.integer({ min: 1, max: 98 });
const eviction = fc.record(
  {
    memory: fc.record({ thresholdPercent: pct, lowerPercent: pct }, { requiredKeys: [] }),
    cpu: fc.record(
      {
        satisfactionLowerPercent: fc.integer({ min: 1, max: 60 }),
        satisfactionUpperPercent: fc.integer({ min: 1, max: 99 }),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);
const spec = fc.record(
  {
    eviction,
    classes: fc.record({ LS: fc.record({ memory }), BE: fc.record({ memory }) }, { requiredKeys: [] }),
    cpuSuppress: fc.record({ curve }),
    nodeSelector: fc.record({ matchExpressions: fc.array(requirement, { maxLength: 2 }) }),
  },
  { requiredKeys: [] },
);

function withoutUndefined(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

describe.each(apiServers)('CEL rules and zod predicates ($name API server)', backend => {
  const api = useApiServer(backend);
  let http: KubeHttp;
  beforeEach(() => {
    http = new KubeHttp(api().kubeConfig());
  });

  it('accept and reject the same policies', async () => {
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(spec, async generated => {
        const body = withoutUndefined({
          apiVersion: 'nodeqos.io/v1alpha1',
          kind: 'NodeQoSPolicy',
          metadata: { name: `p${++counter}` },
          spec: generated,
        });
        const zodAccepts = policySchema.safeParse(body).success;
        const serverAccepts = await http.request('POST', policiesPath, { body }).then(
          () => true,
          (error: unknown) => {
            if ((error as { statusCode?: number }).statusCode !== 422) throw error;
            return false;
          },
        );
        if (!serverAccepts) rejected++;
        expect(serverAccepts).toBe(zodAccepts);
      }),
      { numRuns: 300, seed: 42 },
    );
    expect(rejected).toBeGreaterThan(20);
  }, 120_000);
});

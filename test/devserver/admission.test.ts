// Validation of custom resources against the generated CRDs through client-node: schema errors and CEL
// rules as 422 Invalid with causes naming the field, pruning of unknown fields, fieldValidation, dry run.
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer, type JsonObject } from '../../src/devserver/index.ts';
import { failure, policy, policyApi } from './helpers.ts';

let server: DevServer;
let custom: CustomObjectsApi;

beforeAll(async () => {
  server = await startDevServer();
  custom = server.kubeConfig().makeApiClient(CustomObjectsApi);
});

afterAll(async () => {
  await server.close();
});

interface Cause {
  readonly reason: string;
  readonly message: string;
  readonly field: string;
}

async function rejected(body: JsonObject): Promise<{ code: number; causes: Cause[]; message: string }> {
  const result = await failure(custom.createClusterCustomObject({ ...policyApi, body }));
  const details = result.status.details as { causes?: Cause[] } | undefined;
  return { code: result.code, causes: details?.causes ?? [], message: result.status.message as string };
}

describe('openAPIV3Schema validation', () => {
  it('rejects a curve ratio above its maximum, naming the field', async () => {
    const result = await rejected(policy('ratio', { cpuSuppress: { curve: [{ pressure: 40, ratio: 2 }] } }));
    expect(result.code).toBe(422);
    expect(result.causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        message:
          'Invalid value: 2: spec.cpuSuppress.curve[0].ratio in body should be less than or equal to 1',
        field: 'spec.cpuSuppress.curve[0].ratio',
      },
    ]);
    expect(result.message).toBe(
      `NodeQoSPolicy.nodeqos.io "ratio" is invalid: spec.cpuSuppress.curve[0].ratio: ${result.causes[0]?.message ?? ''}`,
    );
  });

  it('reports type, enum, required, exclusive minimum, pattern and maxItems violations together', async () => {
    const result = await rejected(
      policy('many', {
        priority: 'high',
        cpuSuppress: {
          interpolation: 'cubic',
          maxStepUpRatio: 0,
          curve: Array.from({ length: 33 }, (_, i) => ({ pressure: i, ratio: 0.5 })),
        },
        systemReserved: { cpu: 'lots' },
        nodeSelector: { matchExpressions: [{ operator: 'In', values: ['x'] }] },
      }),
    );
    expect(result.causes.map(c => `${c.reason} ${c.field}`).sort()).toEqual([
      'FieldValueInvalid spec.cpuSuppress.maxStepUpRatio',
      'FieldValueInvalid spec.systemReserved.cpu',
      'FieldValueNotSupported spec.cpuSuppress.interpolation',
      'FieldValueRequired spec.nodeSelector.matchExpressions[0].key',
      'FieldValueTooMany spec.cpuSuppress.curve',
      'FieldValueTypeInvalid spec.priority',
    ]);
    expect(result.causes.find(c => c.field === 'spec.cpuSuppress.maxStepUpRatio')?.message).toContain(
      'should be greater than 0',
    );
  });

  it('requires spec and validates metadata.name', async () => {
    const result = await rejected({
      apiVersion: 'nodeqos.io/v1alpha1',
      kind: 'NodeQoSPolicy',
      metadata: { name: 'Bad_Name' },
    });
    expect(result.causes.map(c => c.field).sort()).toEqual(['metadata.name', 'spec']);
  });

  it('validates map values (additionalProperties)', async () => {
    const result = await rejected(
      policy('labels', { nodeSelector: { matchLabels: { ok: 'x'.repeat(64) } } }),
    );
    expect(result.causes).toEqual([
      expect.objectContaining({ reason: 'FieldValueTooLong', field: 'spec.nodeSelector.matchLabels[ok]' }),
    ]);
  });
});

describe('x-kubernetes-validations (CEL)', () => {
  it('rejects memory minRatio > lowRatio at the rule fieldPath', async () => {
    const result = await rejected(
      policy('cel-memory', { classes: { LS: { memory: { minRatio: 0.9, lowRatio: 0.5 } } } }),
    );
    expect(result.code).toBe(422);
    expect(result.causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        message: expect.stringMatching(/^Invalid value: minRatio must be <= lowRatio/) as unknown,
        field: 'spec.classes.LS.memory.minRatio',
      },
    ]);
  });

  it('uses the documented defaults when a ratio is absent', async () => {
    const result = await rejected(policy('cel-default', { classes: { BE: { memory: { minRatio: 0.5 } } } }));
    expect(result.causes.map(c => c.field)).toEqual(['spec.classes.BE.memory.minRatio']);
    await custom.createClusterCustomObject({
      ...policyApi,
      body: policy('cel-default-ok', { classes: { LSE: { memory: { minRatio: 0.9 } } } }),
    });
  });

  it('evaluates isSorted() and exists_one() on the curve', async () => {
    const unsorted = await rejected(
      policy('unsorted', {
        cpuSuppress: {
          curve: [
            { pressure: 90, ratio: 0.2 },
            { pressure: 40, ratio: 1 },
          ],
        },
      }),
    );
    expect(unsorted.causes).toEqual([
      expect.objectContaining({
        field: 'spec.cpuSuppress.curve',
        message: 'Invalid value: curve points must be in strictly ascending pressure order',
      }),
    ]);
    const duplicate = await rejected(
      policy('duplicate', {
        cpuSuppress: {
          curve: [
            { pressure: 40, ratio: 1 },
            { pressure: 40, ratio: 0.2 },
          ],
        },
      }),
    );
    expect(duplicate.causes.map(c => c.field)).toEqual(['spec.cpuSuppress.curve']);
  });

  it('checks the matchExpressions values rule on each element', async () => {
    const result = await rejected(
      policy('expr', {
        nodeSelector: {
          matchExpressions: [
            { key: 'a', operator: 'Exists' },
            { key: 'b', operator: 'In' },
            { key: 'c', operator: 'DoesNotExist', values: ['x'] },
          ],
        },
      }),
    );
    expect(result.causes.map(c => c.field)).toEqual([
      'spec.nodeSelector.matchExpressions[1].values',
      'spec.nodeSelector.matchExpressions[2].values',
    ]);
  });

  it('applies rules after a patch, on the patched object', async () => {
    await custom.createClusterCustomObject({ ...policyApi, body: policy('patched-cel') });
    const result = await failure(
      custom.patchClusterCustomObject({
        ...policyApi,
        name: 'patched-cel',
        body: [{ op: 'add', path: '/spec/cpuSuppress/curve/-', value: { pressure: 10, ratio: 1 } }],
      }),
    );
    expect(result.code).toBe(422);
  });
});

describe('pruning and fieldValidation', () => {
  it('drops unknown fields and warns about them', async () => {
    const body = policy('pruned', {
      surprise: { nested: true },
      cpuSuppress: { curve: [{ pressure: 1, ratio: 1, color: 'red' }] },
    });
    const response = await fetch(`${server.url}/apis/nodeqos.io/v1alpha1/nodeqospolicies`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...body, topLevel: 1 }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('warning')).toBe(
      '299 - "unknown field \\"spec.cpuSuppress.curve[0].color\\"", 299 - "unknown field \\"spec.surprise\\"", 299 - "unknown field \\"topLevel\\""',
    );
    const stored = (await custom.getClusterCustomObject({ ...policyApi, name: 'pruned' })) as JsonObject;
    expect(stored.topLevel).toBeUndefined();
    expect(stored.spec).toEqual({
      priority: 1,
      nodeSelector: { matchLabels: { a: 'b' } },
      cpuSuppress: { curve: [{ pressure: 1, ratio: 1 }] },
    });
  });

  it('rejects unknown fields with fieldValidation=Strict', async () => {
    const result = await failure(
      custom.createClusterCustomObject({
        ...policyApi,
        fieldValidation: 'Strict',
        body: policy('strict', { surprise: 1 }),
      }),
    );
    expect(result.code).toBe(400);
    expect(result.status.message).toContain('unknown field "spec.surprise"');
  });

  it('validates without storing on dryRun=All', async () => {
    const dry = (await custom.createClusterCustomObject({
      ...policyApi,
      dryRun: 'All',
      body: policy('dry'),
    })) as JsonObject;
    expect((dry.metadata as JsonObject).name).toBe('dry');
    expect((await failure(custom.getClusterCustomObject({ ...policyApi, name: 'dry' }))).code).toBe(404);
  });
});

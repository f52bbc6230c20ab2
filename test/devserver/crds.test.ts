import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crdResourceTypes, loadCrdDirectory, parseCrd } from '../../src/devserver/crds.ts';

describe('CRD loading', () => {
  it('loads the repository CRDs as cluster-scoped types with a status subresource', async () => {
    const crds = await loadCrdDirectory(new URL('../../crds/', import.meta.url).pathname);
    const types = crds.flatMap(crdResourceTypes);
    expect(types.map(t => `${t.key} ${t.kind} ${t.version}`).sort()).toEqual([
      'nodeisolationplans.nodeqos.io NodeIsolationPlan v1alpha1',
      'nodeqospolicies.nodeqos.io NodeQoSPolicy v1alpha1',
    ]);
    expect(types.every(t => !t.namespaced && t.statusSubresource && t.schema !== undefined)).toBe(true);
  });

  it('names the file of a broken CRD', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nodeqos-devserver-crds-'));
    try {
      await writeFile(
        join(dir, 'bad.yaml'),
        'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: x}\n',
      );
      await expect(loadCrdDirectory(dir)).rejects.toThrow(
        /bad\.yaml \(document 1\): not a usable CustomResourceDefinition/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('checks metadata.name against plural.group', () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'wrong.example.com' },
      spec: {
        group: 'example.com',
        names: { kind: 'Widget', plural: 'widgets' },
        scope: 'Namespaced',
        versions: [
          { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } },
        ],
      },
    };
    expect(() => parseCrd(crd, 'inline')).toThrow(/metadata.name must be widgets.example.com/);
    const fixed = parseCrd({ ...crd, metadata: { name: 'widgets.example.com' } }, 'inline');
    expect(crdResourceTypes(fixed)[0]).toMatchObject({
      namespaced: true,
      statusSubresource: false,
      listKind: 'WidgetList',
    });
  });
});

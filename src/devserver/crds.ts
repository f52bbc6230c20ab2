// Loads CustomResourceDefinitions (YAML files or objects) and turns each served version into a ResourceType.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { resourceKey, type ResourceType } from './resource-types.ts';
import { crdSchemaSchema } from './schema/crd-schema.ts';

const crdVersionSchema = z.object({
  name: z.string().min(1),
  served: z.boolean(),
  storage: z.boolean(),
  subresources: z
    .object({ status: z.object({}).loose().optional() })
    .loose()
    .optional(),
  schema: z.object({ openAPIV3Schema: crdSchemaSchema }),
  additionalPrinterColumns: z
    .array(
      z.object({
        name: z.string().min(1),
        type: z.enum(['integer', 'number', 'string', 'boolean', 'date']),
        jsonPath: z.string().min(1),
        description: z.string().optional(),
        format: z.string().optional(),
        priority: z.number().int().optional(),
      }),
    )
    .optional(),
});

const crdObjectSchema = z.object({
  apiVersion: z.literal('apiextensions.k8s.io/v1'),
  kind: z.literal('CustomResourceDefinition'),
  metadata: z.object({ name: z.string().min(1) }).loose(),
  spec: z.object({
    group: z.string().min(1),
    names: z.object({
      kind: z.string().min(1),
      listKind: z.string().min(1).optional(),
      plural: z.string().min(1),
      singular: z.string().min(1).optional(),
      shortNames: z.array(z.string()).optional(),
      categories: z.array(z.string()).optional(),
    }),
    scope: z.enum(['Cluster', 'Namespaced']),
    versions: z.array(crdVersionSchema).min(1),
  }),
});

export type CustomResourceDefinition = z.infer<typeof crdObjectSchema>;

/** Checks a CRD object's shape; the error names the CRD so a broken file is easy to find. */
export function parseCrd(value: unknown, source: string): CustomResourceDefinition {
  const result = crdObjectSchema.safeParse(value);
  if (!result.success)
    throw new Error(`${source}: not a usable CustomResourceDefinition: ${z.prettifyError(result.error)}`);
  const crd = result.data;
  const expectedName = `${crd.spec.names.plural}.${crd.spec.group}`;
  if (crd.metadata.name !== expectedName) {
    throw new Error(`${source}: metadata.name must be ${expectedName}, got ${crd.metadata.name}`);
  }
  return crd;
}

/** Every CustomResourceDefinition document in the *.yaml / *.yml files of a directory. */
export async function loadCrdDirectory(dir: string): Promise<CustomResourceDefinition[]> {
  const files = (await readdir(dir)).filter(f => f.endsWith('.yaml') || f.endsWith('.yml')).sort();
  const crds: CustomResourceDefinition[] = [];
  for (const file of files) {
    const path = join(dir, file);
    const documents = parseAllDocuments(await readFile(path, 'utf8'));
    for (const [index, doc] of documents.entries()) {
      if (doc.errors.length > 0)
        throw new Error(`${path}: YAML error: ${doc.errors.map(e => e.message).join('; ')}`);
      const value: unknown = doc.toJS();
      if (value !== null) crds.push(parseCrd(value, `${path} (document ${index + 1})`));
    }
  }
  return crds;
}

/** One ResourceType per served version. */
export function crdResourceTypes(crd: CustomResourceDefinition): ResourceType[] {
  const { group, names, scope } = crd.spec;
  return crd.spec.versions
    .filter(version => version.served)
    .map(version => ({
      key: resourceKey(group, names.plural),
      builtin: false,
      virtual: false,
      group,
      version: version.name,
      plural: names.plural,
      singular: names.singular ?? names.kind.toLowerCase(),
      kind: names.kind,
      listKind: names.listKind ?? `${names.kind}List`,
      namespaced: scope === 'Namespaced',
      shortNames: names.shortNames ?? [],
      categories: names.categories ?? [],
      statusSubresource: version.subresources?.status !== undefined,
      createKeepsStatus: false,
      allowUnconditionalUpdate: false,
      strategicMergePatch: false,
      extraFieldLabels: [],
      listItemsCarryTypeMeta: true,
      schema: version.schema.openAPIV3Schema,
      // A CRD version without columns prints its age, as the real server's CRD defaulting adds.
      printerColumns: version.additionalPrinterColumns ?? [
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
    }));
}

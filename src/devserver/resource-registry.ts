// Looks resource types up by URL parts (group, version, plural) and lists them for discovery.
import { crdResourceTypes, type CustomResourceDefinition } from './crds.ts';
import { builtinResourceTypes, type ResourceType } from './resource-types.ts';
import { compileRules } from './schema/cel-rules.ts';
import { checkPrinterColumns } from './table.ts';

export interface GroupVersions {
  readonly group: string;
  readonly versions: readonly string[];
}

export class ResourceRegistry {
  private readonly byPath = new Map<string, ResourceType>();
  private readonly ordered: ResourceType[] = [];

  constructor(crds: readonly CustomResourceDefinition[]) {
    for (const type of builtinResourceTypes()) this.add(type, 'built-in');
    for (const crd of crds) {
      for (const type of crdResourceTypes(crd)) {
        if (type.schema !== undefined) compileRules(type.schema, `CRD ${crd.metadata.name} ${type.version}`);
        try {
          checkPrinterColumns(type);
        } catch (error) {
          throw new Error(`CRD ${crd.metadata.name} ${type.version}: ${(error as Error).message}`, {
            cause: error,
          });
        }
        this.add(type, `CRD ${crd.metadata.name}`);
      }
    }
  }

  private add(type: ResourceType, source: string): void {
    const path = pathKey(type.group, type.version, type.plural);
    if (this.byPath.has(path))
      throw new Error(`${source}: ${type.plural} in ${type.group}/${type.version} is already served`);
    this.byPath.set(path, type);
    this.ordered.push(type);
  }

  find(group: string, version: string, plural: string): ResourceType | undefined {
    return this.byPath.get(pathKey(group, version, plural));
  }

  inGroupVersion(group: string, version: string): ResourceType[] {
    return this.ordered.filter(type => type.group === group && type.version === version);
  }

  /** Named API groups (not the core group) with their versions, in registration order. */
  groups(): GroupVersions[] {
    const byGroup = new Map<string, string[]>();
    for (const type of this.ordered) {
      if (type.group === '') continue;
      const versions = byGroup.get(type.group) ?? [];
      if (!versions.includes(type.version)) versions.push(type.version);
      byGroup.set(type.group, versions);
    }
    return [...byGroup].map(([group, versions]) => ({ group, versions }));
  }
}

function pathKey(group: string, version: string, plural: string): string {
  return `${group}/${version}/${plural}`;
}

// Captures, from a real kube-apiserver of the release test/kube-apiserver builds, the OpenAPI v3 schemas of
// the built-in kinds the dev server serves (and the meta types every document refers to), into
// src/devserver/openapi/builtin-schemas.json. Run after bumping Kubernetes: node scripts/gen-devserver-openapi.ts
// (test/devserver-conformance/openapi.test.ts fails when the file no longer matches the real server).
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { builtinOpenApiRoots, builtinSchemasFrom } from '../test/support/builtin-openapi.ts';
import { RawClient } from '../test/support/raw-client.ts';
import { kubernetesVersion, startRealApiserver } from '../test/support/real-apiserver.ts';

const out = fileURLToPath(new URL('../src/devserver/openapi/builtin-schemas.json', import.meta.url));
const api = await startRealApiserver({
  log: line => {
    console.error(line);
  },
});
try {
  const client = new RawClient(api.kubeConfig());
  const documents = [];
  for (const path of builtinOpenApiRoots.documents) {
    const response = await client.request('GET', `/openapi/v3/${path}`);
    if (response.status !== 200) throw new Error(`/openapi/v3/${path}: HTTP ${response.status}`);
    documents.push(response.json);
  }
  const schemas = builtinSchemasFrom(documents);
  await writeFile(out, `${JSON.stringify({ kubernetesVersion, schemas }, null, 1)}\n`);
  console.log(`wrote ${out}: ${Object.keys(schemas).length} schemas from ${kubernetesVersion}`);
} finally {
  await api.stop();
}

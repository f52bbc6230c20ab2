import { stringify } from 'yaml';
import { allCrds } from './crd.ts';

const header = '# Generated from src/api (zod schemas) by `npm run gen:crds`. Do not edit.\n';

export function renderCrds(): { file: string; text: string }[] {
  return allCrds().map(({ file, crd }) => ({ file, text: header + stringify(crd, { lineWidth: 0 }) }));
}

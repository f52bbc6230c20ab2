// @ts-check
// The layer rule: which src/ folders each src/ folder may import (relative imports, static and dynamic). A folder
// may always import its own files. Anything not listed is refused with the file, the import and the allowed list.
import { dirname, relative, resolve, sep } from 'node:path';

/** @type {Readonly<Record<string, readonly string[] | '*'>>} */
export const allowedLayers = {
  api: [],
  observability: [],
  plan: ['api'],
  kube: ['api'],
  devserver: ['api'],
  controller: ['api', 'plan', 'kube', 'observability'],
  agent: ['api', 'plan', 'kube', 'observability'],
  demo: '*',
  cli: '*',
};

const srcRoot = resolve(import.meta.dirname, '..', 'src');

/** @param {string} file @returns {string | undefined} the src/ folder a file belongs to */
function layerOf(file) {
  const inside = relative(srcRoot, file);
  if (inside.startsWith('..') || inside === '') return undefined;
  return inside.split(sep)[0];
}

/** @type {import('eslint').Rule.RuleModule} */
const allowedImports = {
  meta: {
    type: 'problem',
    docs: { description: 'src/ folders import only the layers below them' },
    schema: [],
  },
  create(context) {
    const from = layerOf(context.filename);
    if (from === undefined) return {};
    const allowed = allowedLayers[from];
    /** @param {import('estree').Node} node @param {unknown} value */
    const check = (node, value) => {
      if (typeof value !== 'string' || !value.startsWith('.')) return;
      const target = resolve(dirname(context.filename), value);
      const to = layerOf(target);
      if (to === undefined) {
        context.report({ node, message: `src/${from} may not import "${value}": it is outside src/` });
        return;
      }
      if (to === from || allowed === '*' || allowed?.includes(to)) return;
      const list = allowed === undefined || allowed.length === 0 ? 'nothing of ours' : allowed.join(', ');
      context.report({
        node,
        message: `src/${from} may not import src/${to} ("${value}"): src/${from} may import ${list}`,
      });
    };
    return {
      ImportDeclaration: node => {
        check(node.source, node.source.value);
      },
      ExportNamedDeclaration: node => {
        if (node.source) check(node.source, node.source.value);
      },
      ExportAllDeclaration: node => {
        check(node.source, node.source.value);
      },
      ImportExpression: node => {
        if (node.source.type === 'Literal') check(node.source, node.source.value);
      },
    };
  },
};

export const layersPlugin = { rules: { 'allowed-imports': allowedImports } };

// Types of scripts/eslint-layers.js for the tests that import it.
import type { ESLint } from 'eslint';

export declare const allowedLayers: Readonly<Record<string, readonly string[] | '*'>>;
export declare const layersPlugin: ESLint.Plugin;

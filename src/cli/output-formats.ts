// `-o` choices of `nodeqos plan`, apart from output.ts so the CLI can list them without loading the renderers.
export const outputFormats = ['json', 'yaml', 'table'] as const;
export type OutputFormat = (typeof outputFormats)[number];

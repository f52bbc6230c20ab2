// The closing line of every benchmark: `RESULT <name> key=value key=value ...` (see harness.ts result()).
export interface BenchResult {
  readonly name: string;
  /** Numbers where the value parses as one, else the text. */
  readonly figures: Readonly<Record<string, number | string>>;
  readonly line: string;
}

export function parseResultLine(line: string): BenchResult | undefined {
  const match = /^RESULT (\S+)((?: \S+=\S*)*)$/.exec(line.trimEnd());
  if (!match?.[1]) return undefined;
  const figures: Record<string, number | string> = {};
  for (const pair of (match[2] ?? '').trim().split(' ')) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    const text = pair.slice(at + 1);
    const value = Number(text);
    figures[pair.slice(0, at)] = text !== '' && !Number.isNaN(value) ? value : text;
  }
  return { name: match[1], figures, line: line.trimEnd() };
}

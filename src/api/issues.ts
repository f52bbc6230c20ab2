// zod issues rendered as one line per problem: `spec.cpuSuppress.curve[1].ratio: must be <= 1`.
import type { z } from 'zod';

export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

function bound(issue: { inclusive?: boolean }, strict: string, loose: string): string {
  return issue.inclusive === false ? strict : loose;
}

function sizeMessage(issue: z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall, big: boolean): string {
  const limit = String(
    big ? (issue as z.core.$ZodIssueTooBig).maximum : (issue as z.core.$ZodIssueTooSmall).minimum,
  );
  switch (issue.origin) {
    case 'array':
    case 'set':
      return big ? `must have at most ${limit} items` : `must have at least ${limit} items`;
    case 'string':
      return big ? `must be at most ${limit} characters` : `must be at least ${limit} characters`;
    default:
      return big
        ? `must be ${bound(issue, '<', '<=')} ${limit}`
        : `must be ${bound(issue, '>', '>=')} ${limit}`;
  }
}

function issueMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_big':
      return sizeMessage(issue, true);
    case 'too_small':
      return sizeMessage(issue, false);
    case 'invalid_type':
      return issue.message.endsWith('received undefined')
        ? 'is required'
        : `must be ${issue.expected === 'int' ? 'an integer' : `a ${issue.expected}`}`;
    case 'invalid_value':
      return `must be one of: ${issue.values.map(v => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `unknown field(s): ${issue.keys.join(', ')}`;
    default:
      return issue.message;
  }
}

export function fieldProblems(error: z.ZodError, prefix: readonly PropertyKey[] = []): FieldProblem[] {
  return error.issues.map(issue => ({
    path: formatPath([...prefix, ...issue.path]),
    message: issueMessage(issue),
  }));
}

export function describeProblems(problems: readonly FieldProblem[]): string {
  return problems.map(p => `${p.path}: ${p.message}`).join('\n');
}

// nodeqos validate <file|dir>...: exit 0 when every policy is valid, 1 with one line per problem.
import { validateObjects } from '../../api/policy-validation.ts';
import { readObjects } from '../files.ts';

export function runValidate(paths: readonly string[]): number {
  const result = validateObjects(readObjects(paths));
  for (const p of result.problems) console.error(`${p.source}: ${p.object}: ${p.path}: ${p.message}`);
  const summary = `${result.checked} nodeqos object(s) checked, ${result.policies.length} policies, ${result.problems.length} problem(s)`;
  console.log(
    result.skipped > 0 ? `${summary}; ${result.skipped} object(s) of other kinds ignored` : summary,
  );
  return result.problems.length === 0 ? 0 : 1;
}

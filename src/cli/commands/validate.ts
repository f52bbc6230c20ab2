// nodeqos validate <file|dir>...: exit 0 when every policy is valid, 1 with one line per problem, and 1 when the
// paths hold no nodeqos object at all (a CI job pointed at the wrong directory must not pass).
import { validateObjects } from '../../api/policy-validation.ts';
import { describeKinds, readObjects } from '../files.ts';
import { UsageError } from '../usage-error.ts';

export function runValidate(paths: readonly string[]): number {
  const objects = readObjects(paths);
  const result = validateObjects(objects);
  for (const p of result.problems) console.error(`${p.source}: ${p.object}: ${p.path}: ${p.message}`);
  if (result.checked === 0 && result.problems.length === 0)
    throw new UsageError(
      `${paths.join(' ')}: no NodeQoSPolicy or NodeIsolationPlan found (${describeKinds(objects)})`,
    );
  const summary = `${result.checked} nodeqos object(s) checked, ${result.policies.length} policies, ${result.problems.length} problem(s)`;
  console.log(
    result.skipped > 0 ? `${summary}; ${result.skipped} object(s) of other kinds ignored` : summary,
  );
  return result.problems.length === 0 ? 0 : 1;
}

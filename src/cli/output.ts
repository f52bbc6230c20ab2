import { stringify } from 'yaml';
import type { NodeIsolationPlan } from '../api/plan.ts';
import type { OutputFormat } from './output-formats.ts';
import { renderPlanTable } from './render-plan.ts';

export { outputFormats, type OutputFormat } from './output-formats.ts';

export function renderPlan(plan: NodeIsolationPlan, format: OutputFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(plan, null, 2);
    case 'yaml':
      return stringify(plan, { lineWidth: 0 }).trimEnd();
    case 'table':
      return renderPlanTable(plan);
  }
}

// The runtime's two informers: its own plan (changes of spec only; a deletion restores the node) and the node's
// pods (any change schedules a provisional-pods refresh).
import type { Logger } from 'pino';
import { canonicalJson } from '../../api/canonical-json.ts';
import { Informer, type InformerSource } from '../../kube/informer.ts';
import type { CachedPlan, CachedPod, InvalidPlan } from '../../kube/transforms.ts';

export interface RuntimeInformers {
  readonly plans: Informer<CachedPlan | InvalidPlan>;
  readonly pods: Informer<CachedPod>;
}

export interface InformerHandlers {
  readonly planChanged: (plan: CachedPlan | InvalidPlan) => void;
  readonly planDeleted: () => void;
  readonly podsMoved: () => void;
}

export function runtimeInformers(
  sources: {
    readonly planSource: InformerSource<CachedPlan | InvalidPlan>;
    readonly podSource: InformerSource<CachedPod>;
  },
  handlers: InformerHandlers,
  options: { readonly stallMs: number; readonly logger: Logger },
): RuntimeInformers {
  const informerOptions = {
    stallMs: options.stallMs,
    backoff: { initialMs: 500, maxMs: 30_000 },
    logger: options.logger,
  };
  const plans = new Informer(
    sources.planSource,
    {
      onAdd: handlers.planChanged,
      onUpdate: (before, after) => {
        if (canonicalJson(before.spec) !== canonicalJson(after.spec)) handlers.planChanged(after);
      },
      onDelete: handlers.planDeleted,
    },
    informerOptions,
  );
  const moved = handlers.podsMoved;
  const pods = new Informer(
    sources.podSource,
    { onAdd: moved, onUpdate: moved, onDelete: moved },
    informerOptions,
  );
  return { plans, pods };
}

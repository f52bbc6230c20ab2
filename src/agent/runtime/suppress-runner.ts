// The BE suppress loop's life in the runtime: started with the first accepted plan (from the quota the tier holds
// now), updated by later plans, stopped when the plan is deleted or the agent stops.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { NodeIsolationPlan } from '../../api/plan.ts';
import type { NodeAgent } from '../apply-plan.ts';
import { SuppressLoop } from '../suppress/loop.ts';
import type { SamplerFor } from '../suppress/samplers/select.ts';

export interface SuppressRunnerOptions {
  readonly agent: NodeAgent;
  readonly samplerFor: SamplerFor;
  readonly registry: Registry;
  readonly logger: Logger;
}

export class SuppressRunner {
  readonly #options: SuppressRunnerOptions;
  #loop: SuppressLoop | undefined;

  constructor(options: SuppressRunnerOptions) {
    this.#options = options;
  }

  async run(plan: NodeIsolationPlan): Promise<void> {
    if (this.#loop) {
      this.#loop.update(plan.spec.cpuSuppress);
      return;
    }
    const { agent, samplerFor, registry, logger } = this.#options;
    const initialQuotaUs = await agent.readBeTierQuota();
    this.#loop = new SuppressLoop({
      plan: plan.spec.cpuSuppress,
      samplerFor,
      writeQuota: agent.beTierQuotaSink(),
      registry,
      logger,
      ...(initialQuotaUs === undefined ? {} : { initialQuotaUs }),
    });
    this.#loop.start();
    await this.#loop.tick();
  }

  state(): ReturnType<SuppressLoop['state']> | undefined {
    return this.#loop?.state();
  }

  async stop(): Promise<void> {
    await this.#loop?.stop();
    this.#loop = undefined;
  }
}

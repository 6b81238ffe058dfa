import type { EngineName } from '../inference/engines/engine';
import type { LoadPlan } from '../inference/engines/plan';
import type { VersionPlanner } from '../inference/planner';
import type { StoredVersion } from '../model-store/repository';

/** How long a plan is kept after it settles, for the serving threads that load the version later. */
const KEEP_MS = 60_000;

/**
 * The main thread's planner as every serving thread sees it: the threads each load every version
 * at about the same time, and the plan (for a TF.js model: its conversion and parity check) is
 * made once and shared. A failure is not kept: the next load plans again.
 */
export class SharedPlanner implements VersionPlanner {
  private readonly plans = new Map<string, Promise<LoadPlan>>();

  constructor(private readonly planner: VersionPlanner) {}

  plan(stored: StoredVersion, engine: EngineName | undefined): Promise<LoadPlan> {
    const key = JSON.stringify([stored.dir, stored.configDir, engine]);
    let plan = this.plans.get(key);
    if (!plan) {
      plan = this.planner.plan(stored, engine);
      this.plans.set(key, plan);
      const forget = () => this.plans.delete(key);
      plan.then(() => setTimeout(forget, KEEP_MS).unref(), forget);
    }
    return plan;
  }

  close(): Promise<void> {
    this.plans.clear();
    return this.planner.close();
  }
}

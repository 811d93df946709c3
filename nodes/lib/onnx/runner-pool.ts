/**
 * Several sessions of one model behind one ModelRunner, so that several runs are in flight at once:
 * each run goes to the session with the fewest runs in flight (the first such on a tie). On a machine
 * with more cores than one session uses well, or on a GPU where a second stream hides the copies,
 * two sessions of a few threads each finish more frames per second than one session of all threads.
 * Inputs may come from any session's allocInput (shared memory, which every worker reads).
 */
import { ModelRunner, TensorInfo, ProviderName } from './session';

export class RunnerPool implements ModelRunner {
  private readonly load: number[];

  constructor(private readonly runners: readonly ModelRunner[]) {
    if (runners.length < 1) throw new Error('a runner pool needs at least one session');
    this.load = runners.map(() => 0);
  }

  get inputs(): readonly TensorInfo[] {
    return this.runners[0].inputs;
  }
  get outputs(): readonly TensorInfo[] {
    return this.runners[0].outputs;
  }
  get metadata(): Readonly<Record<string, string>> {
    return this.runners[0].metadata;
  }
  get provider(): ProviderName {
    return this.runners[0].provider;
  }
  get parallel(): number {
    return this.runners.length;
  }
  /** Runs in flight per session (for tests and stats). */
  get inFlight(): readonly number[] {
    return [...this.load];
  }

  async run(input: Float32Array, dims: readonly number[]): Promise<Record<string, { data: Float32Array; dims: number[] }>> {
    let i = 0;
    for (let k = 1; k < this.load.length; k++) if (this.load[k] < this.load[i]) i = k;
    this.load[i]++;
    try {
      return await this.runners[i].run(input, dims);
    } finally {
      this.load[i]--;
    }
  }

  allocInput(length: number): Float32Array {
    const r = this.runners[0];
    return r.allocInput ? r.allocInput(length) : new Float32Array(length);
  }

  async release(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.release()));
  }
}

/**
 * Intra-op threads per session for `sessions` sessions on `cores` cores: the cores shared out, at
 * least one each. With one session, 0 (ONNX Runtime's own choice: one per core).
 */
export function threadsPerSession(cores: number, sessions: number): number {
  if (sessions <= 1) return 0;
  return Math.max(1, Math.floor(cores / sessions));
}

/**
 * A ModelRunner whose ONNX Runtime session lives in a worker thread. onnxruntime-node 1.29 runs
 * `session.run` synchronously on the JS thread (inside a setImmediate), so an in-process session
 * blocks Node-RED's event loop for every inference (13–20 ms for yolox_nano on two cores, far more
 * for larger models): other flows, the dashboard and the camera readers all wait. In a worker only
 * the worker waits. Inputs from allocInput() are shared memory, so Node-RED's thread never copies
 * them (ONNX Runtime refuses shared memory, so the worker copies each input into its own buffer,
 * ~0.2 ms for a 416² tensor, off Node-RED's thread); outputs come back by transferring their buffers
 * (no copy) where ONNX Runtime's buffers allow it.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import { CreatedSession, ModelRunner, ProviderAttempt, ProviderName, SessionOptions, TensorInfo, validateSessionOptions } from './session';

type Reply =
  | { kind: 'ready'; inputs: TensorInfo[]; outputs: TensorInfo[]; metadata: Record<string, string>; provider: ProviderName; attempts: ProviderAttempt[] }
  | { kind: 'init-error'; message: string }
  | { id: number; kind: 'result'; out: Record<string, { data: Float32Array; dims: number[] }> }
  | { id: number; kind: 'error'; message: string }
  | { id: number; kind: 'released' };

interface Waiter {
  resolve: (v: Record<string, { data: Float32Array; dims: number[] }>) => void;
  reject: (e: Error) => void;
}

class WorkerRunner implements ModelRunner {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiter>();
  private released: Promise<void> | null = null;
  private dead: Error | null = null;

  constructor(
    private readonly worker: Worker,
    readonly inputs: TensorInfo[],
    readonly outputs: TensorInfo[],
    readonly metadata: Record<string, string>,
    readonly provider: ProviderName,
  ) {
    worker.on('message', (m: Reply) => {
      if (!('id' in m)) return;
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.kind === 'result') w.resolve(m.out);
      else if (m.kind === 'error') w.reject(new Error(m.message));
      else if (m.kind === 'released') w.resolve({});
    });
    const fail = (e: Error) => {
      this.dead = e;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    worker.on('error', (e) => fail(new Error(`inference worker failed: ${e.message}`)));
    worker.on('exit', (code) => {
      if (!this.released) fail(new Error(`inference worker exited (code ${code})`));
    });
  }

  /** Shared memory: no copy on Node-RED's thread per run (the worker makes the one copy ONNX Runtime needs). */
  allocInput(length: number): Float32Array {
    return new Float32Array(new SharedArrayBuffer(4 * length));
  }

  run(input: Float32Array, dims: readonly number[]): Promise<Record<string, { data: Float32Array; dims: number[] }>> {
    if (this.dead) return Promise.reject(this.dead);
    if (this.released) return Promise.reject(new Error('the session has been released'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, kind: 'run', input, dims: [...dims] });
    });
  }

  /**
   * Asks the worker to release its session after any run in flight (it handles requests in order),
   * then stops the thread. Terminating the thread during a run aborts the whole process inside
   * ONNX Runtime, so termination waits for the worker's answer (or a timeout if it is stuck).
   */
  release(timeoutMs = 10000): Promise<void> {
    if (this.released) return this.released;
    if (this.dead) {
      this.released = this.worker.terminate().then(() => undefined);
      return this.released;
    }
    const id = this.nextId++;
    const answered = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiting.set(id, {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: () => {
          clearTimeout(timer);
          resolve();
        },
      });
      this.worker.postMessage({ id, kind: 'release' });
    });
    this.released = answered.then(() => this.worker.terminate()).then(() => undefined);
    return this.released;
  }
}

/** Same contract as createSession (providers tried in order, attempts reported), in a worker. */
export function createWorkerSession(
  bytes: Uint8Array,
  options: SessionOptions = {},
  workerScript = path.join(__dirname, 'session-worker.js'),
): Promise<CreatedSession> {
  const o = validateSessionOptions(options);
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerScript, { workerData: { bytes, options: o } });
    const onExit = (code: number) => reject(new Error(`inference worker exited (code ${code}) before the model loaded`));
    const onError = (e: Error) => reject(new Error(`inference worker failed: ${e.message}`));
    worker.once('exit', onExit);
    worker.once('error', onError);
    worker.once('message', (m: Reply) => {
      worker.off('exit', onExit);
      worker.off('error', onError);
      if (m.kind === 'ready') {
        resolve({ runner: new WorkerRunner(worker, m.inputs, m.outputs, m.metadata, m.provider), attempts: m.attempts });
      } else {
        void worker.terminate();
        reject(new Error(m.kind === 'init-error' ? m.message : 'inference worker sent an unexpected first message'));
      }
    });
  });
}

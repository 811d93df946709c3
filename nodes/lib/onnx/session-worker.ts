/**
 * Worker-thread side of a worker session (see worker-session.ts). onnxruntime-node runs
 * `session.run` synchronously on the calling thread, so a session in the Node-RED thread stalls every
 * flow for the length of each inference; here it stalls only this thread.
 */
import { parentPort, workerData } from 'worker_threads';
import { createSession, CreatedSession, SessionOptions } from './session';
import { loadOrt } from './runtime';

interface InitData {
  bytes: Uint8Array;
  options: SessionOptions;
}

type Request = { id: number; kind: 'run'; input: Float32Array; dims: number[] } | { id: number; kind: 'release' };

async function main(): Promise<void> {
  if (!parentPort) return;
  const port = parentPort;
  const { bytes, options } = workerData as InitData;
  let created: CreatedSession;
  try {
    created = await createSession(loadOrt(), bytes, options);
  } catch (e) {
    port.postMessage({ kind: 'init-error', message: (e as Error).message });
    return;
  }
  const r = created.runner;
  port.postMessage({
    kind: 'ready',
    inputs: r.inputs,
    outputs: r.outputs,
    metadata: r.metadata,
    provider: r.provider,
    attempts: created.attempts,
  });
  let local: Float32Array | undefined;
  // Requests run one after another: a release must never free the session under a run in flight
  // (ONNX Runtime would abort the whole process), so each waits for the one before it.
  let chain: Promise<void> = Promise.resolve();
  port.on('message', (m: Request) => {
    chain = chain.then(() => handle(m));
  });

  async function handle(m: Request): Promise<void> {
    if (m.kind === 'release') {
      await r.release().catch(() => undefined);
      port.postMessage({ id: m.id, kind: 'released' });
      return;
    }
    try {
      // ONNX Runtime refuses tensors on shared memory: copy into a local buffer here, off the main thread.
      let input = m.input;
      if (input.buffer instanceof SharedArrayBuffer) {
        if (!local || local.length !== input.length) local = new Float32Array(input.length);
        local.set(input);
        input = local;
      }
      const out = await r.run(input, m.dims);
      // Hand the output buffers over instead of copying them; fall back to a copy when a buffer
      // cannot be transferred (shared, or owned by native code).
      const buffers = [...new Set(Object.values(out).map((t) => t.data.buffer))].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
      try {
        port.postMessage({ id: m.id, kind: 'result', out }, buffers);
      } catch {
        port.postMessage({ id: m.id, kind: 'result', out });
      }
    } catch (e) {
      port.postMessage({ id: m.id, kind: 'error', message: (e as Error).message });
    }
  }
}

void main();

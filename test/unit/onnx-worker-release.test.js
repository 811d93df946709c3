'use strict';
// Releasing a worker session while an inference is in flight (a redeploy mid-frame) once aborted the
// whole process inside ONNX Runtime. Run it in a child process so that an abort fails this test
// instead of killing mocha.
const assert = require('assert');
const path = require('path');
const { execFileSync } = require('child_process');
const { asset } = require('../helpers/assets');

describe('ONNX worker session release', function () {
  this.timeout(60000);
  it('waits for the run in flight, releases, and the process survives (3 rounds)', () => {
    const script = `
      const fs = require('fs');
      const { createWorkerSession } = require(${JSON.stringify(path.resolve(__dirname, '../../dist/nodes/lib/onnx/worker-session.js'))});
      (async () => {
        const bytes = new Uint8Array(fs.readFileSync(${JSON.stringify(asset('models/yolox_nano.onnx'))}));
        for (let k = 0; k < 3; k++) {
          const { runner } = await createWorkerSession(bytes, {});
          const input = runner.allocInput(3 * 416 * 416).fill(0.5);
          const pending = runner.run(input, [1, 3, 416, 416]).then(() => 'ran', (e) => 'rejected: ' + e.message);
          await new Promise((r) => setTimeout(r, 5));
          await runner.release();
          console.log('round ' + k + ': ' + (await pending));
        }
        console.log('survived');
      })();`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(out, /round 0: ran\nround 1: ran\nround 2: ran\nsurvived/);
  });
});

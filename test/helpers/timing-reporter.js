'use strict';
// A mocha reporter for finding where test time goes (docs/research/ci-time.md): the spec reporter's
// output, plus a JSON file ($TIMING_OUT, default timing.json) with each file's wall time (its
// top-level suites, hooks included), every test's duration and every hook's. Usage:
//   TIMING_OUT=/tmp/timing.json npx mocha 'test/unit/**/*.test.js' 'test/nodes/**/*.test.js' \
//     --reporter ./test/helpers/timing-reporter.js
const fs = require('fs');
const Mocha = require('mocha');
const { EVENT_SUITE_BEGIN, EVENT_SUITE_END, EVENT_TEST_END, EVENT_HOOK_BEGIN, EVENT_HOOK_END, EVENT_RUN_END } = Mocha.Runner.constants;

class TimingReporter extends Mocha.reporters.Spec {
  /**
   * @param {Mocha.Runner} runner
   * @param {Mocha.MochaOptions} options
   */
  constructor(runner, options) {
    super(runner, options);
    /** @type {Map<string, number>} */
    const files = new Map();
    /** @type {{ file: string | undefined, title: string, ms: number, state: string | undefined }[]} */
    const tests = [];
    /** @type {{ file: string | undefined, title: string, ms: number }[]} */
    const hooks = [];
    /** @type {Map<Mocha.Hook, number>} */
    const hookStart = new Map();
    /** @type {WeakMap<Mocha.Suite, number>} */
    const suiteStart = new WeakMap();
    const t0 = Date.now();
    runner.on(EVENT_SUITE_BEGIN, (s) => {
      if (s.parent && s.parent.root && s.file) suiteStart.set(s, Date.now());
    });
    runner.on(EVENT_SUITE_END, (s) => {
      const t = suiteStart.get(s);
      if (t !== undefined) files.set(s.file, (files.get(s.file) || 0) + (Date.now() - t));
    });
    runner.on(EVENT_TEST_END, (t) => tests.push({ file: t.file, title: t.fullTitle(), ms: t.duration || 0, state: t.state }));
    runner.on(EVENT_HOOK_BEGIN, (h) => hookStart.set(h, Date.now()));
    runner.on(EVENT_HOOK_END, (h) => hooks.push({ file: h.file || (h.parent && h.parent.file), title: h.fullTitle(), ms: Date.now() - hookStart.get(h) }));
    runner.once(EVENT_RUN_END, () => {
      const out = process.env.TIMING_OUT || 'timing.json';
      fs.writeFileSync(out, JSON.stringify({ totalMs: Date.now() - t0, files: [...files].map(([file, ms]) => ({ file, ms })), tests, hooks }, null, 1));
    });
  }
}
module.exports = TimingReporter;

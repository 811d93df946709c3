'use strict';
// Waiting for something a test expects to happen (a message, a status, a row in a database):
// poll a condition until it is truthy or a time limit passes. The limit only bounds a failing
// test; nothing asserts on how long the wait took.

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves with the first truthy value of `cond()` (which may be async); rejects with
 * "timed out waiting for <what>" after `ms`, or with whatever `cond` throws.
 */
async function waitFor(cond, ms, what, periodMs = 10) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(periodMs);
  }
}

module.exports = { waitFor, sleep };

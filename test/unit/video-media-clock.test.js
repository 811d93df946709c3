'use strict';
// MediaClock: a file's frame times keep increasing over ffmpeg restarts and, through a snapshot kept
// in node context, over redeploys and Node-RED restarts; live frames keep the wall clock.
const assert = require('assert');
const { MediaClock } = require('../../dist/nodes/lib/video/media-clock.js');

/**
 * Runs a clock over a script of [what, value] steps and returns the times it gave out.
 * @param {[string, number][]} steps
 */
function run(clock, steps) {
  const out = [];
  for (const [what, v] of steps) {
    if (what === 'start') clock.startRun(v);
    else if (what === 'file') out.push(clock.fileTime(v));
    else if (what === 'live') out.push(clock.liveTime(v));
    else if (what === 'after') clock.continueAfter(v);
  }
  return out;
}

describe('MediaClock', () => {
  /** @type {[string, import('../../dist/nodes/lib/video/media-clock').MediaClockState | undefined, [string, number][], number[]][]} */
  const table = [
    [
      'a first run starts at 0 and follows media time',
      undefined,
      [
        ['start', 100],
        ['file', 0],
        ['file', 100],
        ['file', 200],
      ],
      [0, 100, 200],
    ],
    [
      'a restart (loop, reconnect, restart command, new URL) continues one frame later',
      undefined,
      [
        ['start', 100],
        ['file', 0],
        ['file', 100],
        ['start', 100],
        ['file', 0],
        ['file', 100],
      ],
      [0, 100, 200, 300],
    ],
    [
      'a saved clock (a redeploy, a Node-RED restart) continues where it stopped',
      { lastTMs: 7900 },
      [
        ['start', 100],
        ['file', 0],
        ['file', 100],
      ],
      [8000, 8100],
    ],
    [
      'live frames keep the wall clock, even after a saved file time',
      { lastTMs: 7900 },
      [
        ['start', 100],
        ['live', 1.7e12],
        ['live', 1.7e12 + 140],
      ],
      [1.7e12, 1.7e12 + 140],
    ],
    [
      'a file after a live source continues after the last live time',
      undefined,
      [
        ['start', 40],
        ['live', 5000],
        ['start', 40],
        ['file', 0],
      ],
      [5000, 5040],
    ],
    [
      'a frame rate from the fps limit: 7 fps steps 142.857… ms',
      { lastTMs: 1000 },
      [
        ['start', 1000 / 7],
        ['file', 0],
      ],
      [1000 + 1000 / 7],
    ],
    [
      "the file's own frame interval, once seen, beats the fallback at a restart",
      undefined,
      [
        ['start', 40],
        ['file', 0],
        ['file', 100],
        ['start', 40],
        ['file', 0],
      ],
      [0, 100, 200],
    ],
    [
      'a saved frame interval is used after a Node-RED restart',
      { lastTMs: 500, stepMs: 100 },
      [
        ['start', 40],
        ['file', 0],
      ],
      [600],
    ],
    [
      'continueAfter: a later time from the frame store wins',
      { lastTMs: 500 },
      [
        ['after', 9000],
        ['start', 100],
        ['file', 0],
      ],
      [9100],
    ],
    [
      'continueAfter: an earlier or missing time changes nothing',
      { lastTMs: 500 },
      [
        ['after', 100],
        ['after', undefined],
        ['start', 100],
        ['file', 0],
      ],
      [600],
    ],
    [
      'continueAfter on a fresh clock',
      undefined,
      [
        ['after', 1200],
        ['start', 100],
        ['file', 0],
      ],
      [1300],
    ],
  ];
  for (const [name, saved, steps, want] of table) {
    it(name, () => assert.deepStrictEqual(run(new MediaClock(saved), steps), want));
  }

  it('snapshot → new clock: times continue across any number of restarts, never backwards', () => {
    let saved;
    const all = [];
    for (let restart = 0; restart < 3; restart++) {
      const c = new MediaClock(saved);
      all.push(
        ...run(c, [
          ['start', 100],
          ['file', 0],
          ['file', 100],
          ['file', 200],
        ]),
      );
      saved = JSON.parse(JSON.stringify(c.snapshot()));
    }
    assert.deepStrictEqual(all, [0, 100, 200, 300, 400, 500, 600, 700, 800]);
    assert.deepStrictEqual(saved, { lastTMs: 800, stepMs: 100 });
  });

  it('nothing to save before the first frame; a corrupt saved value starts at 0', () => {
    assert.strictEqual(new MediaClock().snapshot(), undefined);
    for (const bad of [null, 'x', { lastTMs: -5 }, { lastTMs: NaN }, { lastTMs: '12' }, []]) {
      const c = new MediaClock(bad);
      c.startRun(100);
      assert.strictEqual(c.fileTime(0), 0, JSON.stringify(bad));
    }
  });
});

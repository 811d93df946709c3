'use strict';
// Settings changed at run time are kept with a fingerprint of the editor settings they were made
// over: the same editor settings keep them, changed editor settings drop them, layout does not count.
const assert = require('assert');
const { KeptSettings, editorFingerprint } = require('../../dist/nodes/shared/kept-settings');

/** A node with a context in memory, as Node-RED's default store gives it. */
function fakeNode() {
  /** @type {Map<string, unknown>} */
  const store = new Map();
  /** @type {string[]} */
  const warned = [];
  const node = /** @type {any} */ ({
    id: 'n1',
    context: () => ({ get: (/** @type {string} */ k) => store.get(k), set: (/** @type {string} */ k, /** @type {unknown} */ v) => store.set(k, v) }),
    warn: (/** @type {string} */ t) => warned.push(t),
  });
  return { node, store, warned };
}

describe('kept settings (run-time changes vs the editor)', () => {
  const editor = { id: 'n1', type: 'vision-track', z: 't', x: 10, y: 20, name: 'a', wires: [[]], iou: 0.3, minHits: 3 };

  it('keeps changes over a restart with the same editor settings; moving or renaming the node keeps them too', () => {
    const { node } = fakeNode();
    new KeptSettings(node, 'k', editor).save({ minHits: 1 });
    const again = new KeptSettings(node, 'k', { ...editor, x: 300, name: 'renamed', wires: [['other']] }).load();
    assert.deepStrictEqual(again, { values: { minHits: 1 }, dropped: false });
  });

  it('drops them once a setting was changed in the editor, and forgets them', () => {
    const { node, store } = fakeNode();
    new KeptSettings(node, 'k', editor).save({ minHits: 1 });
    assert.deepStrictEqual(new KeptSettings(node, 'k', { ...editor, iou: 0.5 }).load(), { values: undefined, dropped: true });
    assert.strictEqual(store.get('k'), undefined);
    assert.deepStrictEqual(new KeptSettings(node, 'k', editor).load(), { values: undefined, dropped: false });
  });

  it('changes kept by an earlier version (no fingerprint) stay, kept from now on with one', () => {
    const { node, store } = fakeNode();
    store.set('k', '{"lines":[]}');
    assert.deepStrictEqual(new KeptSettings(node, 'k', editor).load(), { values: '{"lines":[]}', dropped: false });
    assert.deepStrictEqual(new KeptSettings(node, 'k', editor).load().values, '{"lines":[]}');
    assert.strictEqual(new KeptSettings(node, 'k', { ...editor, minHits: 5 }).load().dropped, true);
  });

  it('saving none clears them; a context that cannot store warns instead of throwing', () => {
    const { node, store, warned } = fakeNode();
    const k = new KeptSettings(node, 'k', editor);
    k.save({ a: 1 });
    k.save(undefined);
    assert.strictEqual(store.get('k'), undefined);
    node.context = () => ({
      get: () => undefined,
      set: () => {
        throw new Error('store full');
      },
    });
    k.save({ a: 1 });
    assert.match(warned[0], /store full/);
  });

  it('the fingerprint does not depend on property order', () => {
    assert.strictEqual(editorFingerprint({ a: 1, b: 'x' }), editorFingerprint({ b: 'x', a: 1 }));
    assert.notStrictEqual(editorFingerprint({ a: 1 }), editorFingerprint({ a: 2 }));
  });
});

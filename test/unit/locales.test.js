'use strict';
// Every language beside en-US (today: de) translates each node completely: the same message keys
// with the same __placeholders__, and a help panel that keeps the house shape (one-sentence summary,
// at most 650 words, sections in order under their translated names). A missing key would show the
// key itself in the editor; a missing panel would fall back to English.
const assert = require('assert');
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..', '..');
const pkg = require('../../package.json');
const SECTIONS = { de: ['Eingänge', 'Ausgänge', 'Details', 'Referenzen'] };

function flatten(o, prefix = '') {
  return Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? flatten(v, `${prefix}${k}.`) : [[`${prefix}${k}`, String(v)]]));
}
const placeholders = (s) => [...s.matchAll(/__(\w+)__/g)].map((m) => m[1]).sort();
const words = (html) =>
  html
    .replace(/<[^>]*>/g, '')
    .split(/\s+/)
    .filter(Boolean).length;

const nodes = Object.entries(pkg['node-red'].nodes).map(([type, js]) => {
  const dir = path.join(ROOT, path.dirname(js.replace(/^dist\//, '')));
  const base = path.basename(js, '.js');
  const editor = fs.readFileSync(path.join(dir, `${base}.html`), 'utf8');
  // Config nodes and port-less dashboard widgets have no Inputs/Outputs sections.
  const portless = /inputs:\s*0\b/.test(editor) && /outputs:\s*0\b/.test(editor);
  return { type, dir, base, config: /category:\s*['"]config['"]/.test(editor) || portless };
});

describe('translations of the editor and help', () => {
  it('ships German for every node', () => {
    for (const n of nodes) {
      assert.ok(fs.existsSync(path.join(n.dir, 'locales', 'de', `${n.base}.json`)), `${n.type}: locales/de/${n.base}.json`);
      assert.ok(fs.existsSync(path.join(n.dir, 'locales', 'de', `${n.base}.html`)), `${n.type}: locales/de/${n.base}.html`);
    }
  });

  for (const lang of Object.keys(SECTIONS)) {
    for (const n of nodes) {
      describe(`${n.type} (${lang})`, () => {
        const read = (l, ext) => fs.readFileSync(path.join(n.dir, 'locales', l, `${n.base}.${ext}`), 'utf8');

        it('has every message key of en-US, no other, with the same placeholders', () => {
          const en = new Map(flatten(JSON.parse(read('en-US', 'json'))));
          const tr = new Map(flatten(JSON.parse(read(lang, 'json'))));
          assert.deepStrictEqual([...tr.keys()].sort(), [...en.keys()].sort());
          for (const [k, v] of en) assert.deepStrictEqual(placeholders(tr.get(k)), placeholders(v), `${k}: "${tr.get(k)}"`);
        });

        it('has a help panel of the house shape', () => {
          const html = read(lang, 'html');
          assert.match(html, new RegExp(`data-help-name="${n.type}"`));
          assert.ok(words(html) <= 650, `${words(html)} words`);
          const first = /<p>([\s\S]*?)<\/p>/
            .exec(html)[1]
            .replace(/<[^>]*>/g, '')
            .replace(/\s+/g, ' ')
            .trim();
          assert.match(first, /[.!?]$/, first);
          assert.strictEqual(first.split(/(?<=[.!?])\s+(?=[A-ZÄÖÜ])/).length, 1, first);
          const headings = [...html.matchAll(/<h3>([^<]*)<\/h3>/g)].map((m) => m[1].trim());
          assert.deepStrictEqual(headings, n.config ? SECTIONS[lang].slice(2) : SECTIONS[lang]);
        });

        it('keeps the code and links of the English panel', () => {
          // Placeholders in angle brackets (<folder>, <user dir>) are words and may be translated.
          const grab = (html, re) => [...html.matchAll(re)].map((m) => m[1].replace(/&lt;[^&]*&gt;/g, '<…>')).sort();
          const en = read('en-US', 'html');
          const tr = read(lang, 'html');
          assert.deepStrictEqual(grab(tr, /href="([^"]+)"/g), grab(en, /href="([^"]+)"/g));
          assert.deepStrictEqual(grab(tr, /<code>([^<]*)<\/code>/g), grab(en, /<code>([^<]*)<\/code>/g));
        });
      });
    }
  }
});

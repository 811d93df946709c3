'use strict';
// Every node's help panel (the editor's book icon) stays short enough to read in the sidebar: at most
// 650 words, a first paragraph of one sentence (Node-RED shows it as the palette tooltip), and the
// house order of sections: Inputs, Outputs (nodes with wires), Details, References. Longer
// explanations belong in docs/nodes/*.md, which each panel links to.
const assert = require('assert');
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..', '..');
const pkg = require('../../package.json');
const MAX_WORDS = 650;

/** What `sed 's/<[^>]*>//g' file | wc -w` counts: words of the text with the tags taken out. */
function words(html) {
  return html
    .replace(/<[^>]*>/g, '')
    .split(/\s+/)
    .filter(Boolean).length;
}

/** The help panel of each registered node type, found from package.json as the scorecard does. */
function panels() {
  return Object.entries(pkg['node-red'].nodes).map(([type, js]) => {
    const src = path.join(ROOT, js.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
    const dir = path.dirname(src);
    const base = path.basename(src, '.ts');
    const editor = fs.readFileSync(path.join(dir, `${base}.html`), 'utf8');
    const file = path.join(dir, 'locales', 'en-US', `${base}.html`);
    return {
      type,
      file: path.relative(ROOT, file),
      html: fs.readFileSync(file, 'utf8'),
      config: /category:\s*['"]config['"]/.test(editor),
      // A dashboard widget without ports (vision-ui-*): no Inputs or Outputs to describe either.
      wireless: /\binputs:\s*0\b/.test(editor) && /\boutputs:\s*0\b/.test(editor),
    };
  });
}

/** The text of the panel's first element, which must be a paragraph. */
function firstParagraph(html) {
  const body = html.replace(/^\s*<script[^>]*>/, '').trimStart();
  const m = /^<p>([\s\S]*?)<\/p>/.exec(body);
  return m
    ? m[1]
        .replace(/<[^>]*>/g, '')
        .replace(/\s+/g, ' ')
        .trim()
    : null;
}

/** Sentences in a paragraph: a full stop, ! or ? followed by a space and a capital letter starts another. */
function sentences(text) {
  return text.split(/(?<=[.!?])\s+(?=[A-Z])/).length;
}

describe('help panels: short, with a one-sentence summary', () => {
  const all = panels();

  it('finds a help panel for every node type', () => {
    assert.ok(all.length >= 10, `only ${all.length} help panels found`);
    for (const p of all) assert.match(p.html, new RegExp(`data-help-name="${p.type}"`), `${p.file} is the help of ${p.type}`);
  });

  for (const p of all) {
    describe(p.type, () => {
      it(`has at most ${MAX_WORDS} words`, () => {
        const n = words(p.html);
        assert.ok(n <= MAX_WORDS, `${p.file}: ${n} words; move the long explanations to docs/nodes/`);
      });

      it('starts with a one-sentence summary (the tooltip)', () => {
        const first = firstParagraph(p.html);
        assert.ok(first, `${p.file}: the panel must start with a <p>`);
        assert.match(first, /[.!?]$/, `${p.file}: the summary is a sentence: "${first}"`);
        assert.strictEqual(sentences(first), 1, `${p.file}: the summary is one sentence: "${first}"`);
      });

      it('has its sections in order: Inputs, Outputs, Details, References', () => {
        const headings = [...p.html.matchAll(/<h3>([^<]*)<\/h3>/g)].map((m) => m[1].trim());
        const expected = p.config || p.wireless ? ['Details', 'References'] : ['Inputs', 'Outputs', 'Details', 'References'];
        assert.deepStrictEqual(headings, expected, p.file);
      });
    });
  }
});

describe('the help checks themselves', () => {
  it('count words as sed and wc do, and tell one sentence from two', () => {
    assert.strictEqual(words('<p>Counts <code>people</code> at a line.</p>\n<h3>Inputs</h3>'), 6);
    assert.strictEqual(sentences('Counts people, e.g. at a door.'), 1);
    assert.strictEqual(sentences('Counts people. Then it stops.'), 2);
    assert.strictEqual(firstParagraph('<script type="text/html" data-help-name="x">\n  <p>One <b>thing</b>.</p><p>More.</p>'), 'One thing.');
    assert.strictEqual(firstParagraph('<script type="text/html">\n  <h3>Details</h3><p>x</p>'), null);
  });
});

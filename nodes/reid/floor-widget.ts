/**
 * The floor-map widget: browser code, served as text by vision-reid at
 * `<httpNodeRoot>/vision-reid/floor-map.js` (it defines `window.EdgeVisionFloorMap(element, options)`).
 * It polls `<httpNodeRoot>/vision-reid/floor` and draws, in an SVG, each calibrated camera's floor
 * area and each person on the floor as a dot labelled with their global id. Any dashboard can host it:
 * a Dashboard 1 `ui_template` (docs/nodes/reid.md has the snippet) or a plain page; a Dashboard 2.0
 * widget can wrap it. The function below must stay self-contained (no imports, no closure over module scope): it is
 * sent to the browser as its own source text.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- browser DOM objects; this project compiles without the DOM typings */
import type { FloorPerson } from '../lib/reid/floor-map';
import type { Point } from '../lib/types';

/** What the floor route answers (floor-route.ts); read defensively, it comes over the network. */
interface FloorAnswer {
  people?: (FloorPerson & { hue?: number })[];
  areas?: { camera: string; floor?: Point[] }[];
}

/** The slice of fetch's Response the widget reads. */
interface FetchAnswer {
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
}

export interface FloorMapWidgetOptions {
  /** The floor route (default "/vision-reid/floor"). */
  url?: string;
  /** Poll period in ms (default 500). */
  intervalMs?: number;
}

export function floorMapWidget(el: any, options: FloorMapWidgetOptions = {}): { stop(): void } {
  const g: any = globalThis as any;
  const doc = g.document;
  const url = options.url || '/vision-reid/floor';
  const every = Math.max(100, options.intervalMs || 500);
  const NS = 'http://www.w3.org/2000/svg';
  const W = 600;
  const H = 400;
  const PAD = 30;
  el.innerHTML = '';
  const svg = doc.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('class', 'ev-floor-map');
  svg.setAttribute('style', 'width:100%;height:auto;background:#f4f6f8;border:1px solid #cfd8dc;font-family:sans-serif');
  el.appendChild(svg);
  const note = doc.createElement('div');
  note.setAttribute('class', 'ev-floor-note');
  note.setAttribute('style', 'font-size:12px;color:#607d8b');
  el.appendChild(note);
  const add = (parent: any, tag: string, attrs: Record<string, string | number>, text?: string) => {
    const n = doc.createElementNS(NS, tag);
    for (const k of Object.keys(attrs)) n.setAttribute(k, String(attrs[k]));
    if (text !== undefined) n.textContent = text;
    parent.appendChild(n);
    return n;
  };
  const draw = (data: FloorAnswer | null) => {
    const people = data && Array.isArray(data.people) ? data.people : [];
    const areas = data && Array.isArray(data.areas) ? data.areas : [];
    const pts: number[][] = [];
    for (const a of areas) for (const p of a.floor || []) pts.push(p);
    for (const p of people) pts.push(p.floor);
    let x0 = 0;
    let y0 = 0;
    let x1 = 1;
    let y1 = 1;
    if (pts.length) {
      x0 = Math.min(...pts.map((p) => p[0]));
      x1 = Math.max(...pts.map((p) => p[0]));
      y0 = Math.min(...pts.map((p) => p[1]));
      y1 = Math.max(...pts.map((p) => p[1]));
    }
    const k = Math.min((W - 2 * PAD) / Math.max(x1 - x0, 1e-6), (H - 2 * PAD) / Math.max(y1 - y0, 1e-6));
    const sx = (x: number) => PAD + (x - x0) * k;
    const sy = (y: number) => PAD + (y - y0) * k;
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    for (const a of areas) {
      const poly = (a.floor || []).map((p: number[]) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');
      add(svg, 'polygon', { points: poly, fill: '#e3eaf0', stroke: '#90a4ae', 'stroke-dasharray': '4 3', class: 'ev-floor-area', 'data-camera': a.camera });
      const c = (a.floor || [])[0];
      if (c) add(svg, 'text', { x: sx(c[0]) + 4, y: sy(c[1]) + 14, 'font-size': 11, fill: '#78909c' }, a.camera);
    }
    for (const p of people) {
      // The route gives each id its colour (idHue), the same as the Dashboard 2.0 widget's.
      const col = `hsl(${Number(p.hue) || 0},70%,45%)`;
      const gEl = add(svg, 'g', { class: 'ev-floor-person', 'data-global-id': p.globalId, 'data-camera': p.camera });
      add(gEl, 'circle', {
        cx: sx(p.floor[0]).toFixed(1),
        cy: sy(p.floor[1]).toFixed(1),
        r: 7,
        fill: col,
        stroke: '#fff',
        'stroke-width': 2,
        class: 'ev-floor-dot',
      });
      add(
        gEl,
        'text',
        { x: (sx(p.floor[0]) + 10).toFixed(1), y: (sy(p.floor[1]) + 4).toFixed(1), 'font-size': 13, fill: col, class: 'ev-floor-label' },
        p.globalId,
      );
    }
    note.textContent = `${people.length} on the floor · ${areas.length} calibrated camera${areas.length === 1 ? '' : 's'}`;
  };
  let timer: unknown;
  let stopped = false;
  const tick = () => {
    g.fetch(url, { cache: 'no-store', credentials: 'same-origin' })
      .then((r: FetchAnswer) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then(draw, (e: Error) => {
        note.textContent = `floor map: ${e.message}`;
      })
      .then(() => {
        if (!stopped) timer = g.setTimeout(tick, every);
      });
  };
  tick();
  return {
    stop() {
      stopped = true;
      g.clearTimeout(timer);
    },
  };
}

/** The script the route serves. */
export function floorMapScript(): string {
  return `window.EdgeVisionFloorMap = ${floorMapWidget.toString()};\n`;
}

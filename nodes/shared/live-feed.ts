/**
 * What the vision nodes hand to the dashboard widgets that show them, in the process, without a wire:
 * a node publishes each frame it has processed, its events and its KPI reports under its own id; a
 * widget (vision-ui-tiles, -timeline, -events) set to that node subscribes. Nothing is copied or
 * kept: with no widget subscribed, publishing costs a map lookup. The payloads are the node's own
 * outgoing objects, so subscribers must not change them.
 */
import { EventEmitter } from 'events';
import { VisionFrame } from '../lib/types';

export interface LiveItem {
  /** The frame as the node sends it on (after its own enrichment). */
  frame?: VisionFrame;
  /** Event payloads (line crossings, zone and state changes…), oldest first. */
  events?: unknown[];
  /** A KPI report (vision-productivity-state). */
  kpi?: unknown;
}

// One bus per process, kept on globalThis so that two copies of this module (a test loading dist/
// beside an installed package) still meet.
const KEY = Symbol.for('edgevision.live-feed');
type Holder = { [KEY]?: EventEmitter };

function bus(): EventEmitter {
  const g = globalThis as Holder;
  if (!g[KEY]) {
    const b = new EventEmitter();
    b.setMaxListeners(0);
    g[KEY] = b;
  }
  return g[KEY]!;
}

/** Hands an item to the widgets showing node `nodeId` (none: nothing happens). A widget's failure never reaches the publisher. */
export function publishLive(nodeId: string, item: LiveItem): void {
  const b = bus();
  if (!b.listenerCount(nodeId)) return;
  for (const fn of b.listeners(nodeId) as ((i: LiveItem) => void)[]) {
    try {
      fn(item);
    } catch {
      /* a widget's own bug: its status shows it; the pipeline goes on */
    }
  }
}

/** Receives what node `nodeId` publishes; returns the function that stops it. */
export function subscribeLive(nodeId: string, fn: (item: LiveItem) => void): () => void {
  const b = bus();
  b.on(nodeId, fn);
  return () => b.off(nodeId, fn);
}

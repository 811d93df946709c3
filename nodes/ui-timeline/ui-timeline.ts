/**
 * vision-ui-timeline: a Dashboard 2.0 widget drawing each station's states (working, idle, absent)
 * over the last minutes, for the vision-productivity-state node picked in its dialog
 * (nodes/shared/live-feed: no wires). Stream time (the frames' tMs) drives it, so a replay draws as
 * it ran. At most one update a second reaches the browsers.
 */
import { Red, Node } from '../shared/red';
import { startFollowingWidget, ThrottledPublisher } from '../shared/dashboard2';
import { subscribeLive } from '../shared/live-feed';
import { StationTimeline } from '../lib/dashboard/timeline';
import { TIMELINE_SOURCES, readTimelineConfig } from './config';

const TYPE = 'vision-ui-timeline';
const MIN_INTERVAL_MS = 1000;

export = function (RED: Red) {
  function VisionUiTimelineNode(this: Node, config: Record<string, unknown>) {
    RED.nodes.createNode(this, config);
    const node = this;
    startFollowingWidget(
      RED,
      node,
      config,
      { type: TYPE, field: 'source', sources: TIMELINE_SOURCES, read: readTimelineConfig, ids: (s) => [s.source], waitingText: 'waiting for frames' },
      ({ settings, widget, status, onClose }) => {
        const timeline = new StationTimeline({ windowMs: settings.windowMs });
        const out = new ThrottledPublisher(
          widget,
          () => {
            const view = timeline.view();
            const names = Object.keys(view.stations);
            status.set('running', `${names.length} station${names.length === 1 ? '' : 's'}`);
            return { payload: view };
          },
          MIN_INTERVAL_MS,
        );
        onClose(() => out.close());
        onClose(
          subscribeLive(settings.source, (item) => {
            for (const e of item.events || []) {
              const ev = e as Record<string, unknown>;
              if (ev && ev.event === 'state-change') timeline.change(String(ev.station), String(ev.state), Number(ev.tMs));
            }
            const f = item.frame;
            if (f && f.frame && Number.isFinite(f.frame.tMs)) {
              // A station's state as the frame has it: the first one shows before its first change.
              const st = (f.stations || {}) as Record<string, { state?: string }>;
              for (const [name, s] of Object.entries(st)) if (s && s.state) timeline.change(name, s.state, f.frame.tMs);
              timeline.advance(f.frame.tMs);
            }
            out.poke();
          }),
        );
      },
    );
  }
  RED.nodes.registerType(TYPE, VisionUiTimelineNode);
};

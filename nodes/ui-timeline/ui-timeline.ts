/**
 * vision-ui-timeline: a Dashboard 2.0 widget drawing each station's states (working, idle, absent)
 * over the last minutes, for the vision-productivity-state node picked in its dialog
 * (nodes/shared/live-feed: no wires). Stream time (the frames' tMs) drives it, so a replay draws as
 * it ran. At most one update a second reaches the browsers.
 */
import { Red, Node } from '../shared/red';
import { NodeStatusReporter } from '../shared/node-status';
import { registerWidget, relinkSources, reportWidgetProblem, sourceProblem, ThrottledPublisher } from '../shared/dashboard2';
import { subscribeLive } from '../shared/live-feed';
import { StationTimeline } from '../lib/dashboard/timeline';
import { TIMELINE_SOURCES, TimelineSettings, readTimelineConfig } from './config';

const TYPE = 'vision-ui-timeline';
const MIN_INTERVAL_MS = 1000;

export = function (RED: Red) {
  function VisionUiTimelineNode(this: Node, config: Record<string, unknown>) {
    RED.nodes.createNode(this, config);
    const node = this;
    const status = new NodeStatusReporter(node);
    const stops: (() => void)[] = [];
    node.on('close', (_removed: boolean, done: () => void) => {
      for (const s of stops) s();
      status.close();
      done();
    });
    let settings: TimelineSettings;
    try {
      settings = readTimelineConfig(relinkSources(RED, node, config, 'source', TIMELINE_SOURCES));
      const widget = registerWidget(RED, node, TYPE, config);
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
      stops.push(() => out.close());
      stops.push(
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
      const check = setImmediate(() => {
        const problem = sourceProblem(RED, settings.source, TIMELINE_SOURCES);
        if (problem) status.force('error', problem);
        else status.force('idle', 'waiting for frames');
      });
      stops.push(() => clearImmediate(check));
    } catch (e) {
      stops.push(reportWidgetProblem(node, status, e as Error));
    }
  }
  RED.nodes.registerType(TYPE, VisionUiTimelineNode);
};

/**
 * vision-ui-events: a Dashboard 2.0 widget listing the newest events — line crossings, zone
 * enter/exit, station state changes, drift warnings — of the vision-line-count and
 * vision-productivity-state nodes picked in its dialog (nodes/shared/live-feed: no wires), newest first.
 */
import { Red, Node } from '../shared/red';
import { NodeStatusReporter } from '../shared/node-status';
import { registerWidget, relinkSources, reportWidgetProblem, sourceProblem, ThrottledPublisher } from '../shared/dashboard2';
import { subscribeLive } from '../shared/live-feed';
import { EventLog } from '../lib/dashboard/event-log';
import { EVENT_SOURCES, EventsSettings, readEventsConfig } from './config';

const TYPE = 'vision-ui-events';
const MIN_INTERVAL_MS = 250;

export = function (RED: Red) {
  function VisionUiEventsNode(this: Node, config: Record<string, unknown>) {
    RED.nodes.createNode(this, config);
    const node = this;
    const status = new NodeStatusReporter(node);
    const stops: (() => void)[] = [];
    node.on('close', (_removed: boolean, done: () => void) => {
      for (const s of stops) s();
      status.close();
      done();
    });
    let settings: EventsSettings;
    try {
      settings = readEventsConfig(relinkSources(RED, node, config, 'sources', EVENT_SOURCES));
      const widget = registerWidget(RED, node, TYPE, config);
      const log = new EventLog(settings.rows);
      let seen = 0;
      const out = new ThrottledPublisher(
        widget,
        () => {
          status.set('running', `${seen} events`);
          return { payload: { rows: log.rows() } };
        },
        MIN_INTERVAL_MS,
      );
      stops.push(() => out.close());
      for (const id of settings.sources) {
        stops.push(
          subscribeLive(id, (item) => {
            let added = 0;
            for (const e of item.events || []) if (log.add(e)) added++;
            if (added) {
              seen += added;
              out.poke();
            }
          }),
        );
      }
      const check = setImmediate(() => {
        const problems = settings.sources.map((id) => sourceProblem(RED, id, EVENT_SOURCES)).filter((p): p is string => !!p);
        if (problems.length) status.force('error', problems[0]);
        else status.force('idle', 'waiting for events');
      });
      stops.push(() => clearImmediate(check));
    } catch (e) {
      stops.push(reportWidgetProblem(node, status, e as Error));
    }
  }
  RED.nodes.registerType(TYPE, VisionUiEventsNode);
};

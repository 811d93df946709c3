/**
 * vision-ui-events: a Dashboard 2.0 widget listing the newest events — line crossings, zone
 * enter/exit, station state changes, drift warnings — of the vision-line-count and
 * vision-productivity-state nodes picked in its dialog (nodes/shared/live-feed: no wires), newest first.
 */
import { Red, Node } from '../shared/red';
import { startFollowingWidget, ThrottledPublisher } from '../shared/dashboard2';
import { subscribeLive } from '../shared/live-feed';
import { EventLog } from '../lib/dashboard/event-log';
import { EVENT_SOURCES, readEventsConfig } from './config';

const TYPE = 'vision-ui-events';
const MIN_INTERVAL_MS = 250;

export = function (RED: Red) {
  function VisionUiEventsNode(this: Node, config: Record<string, unknown>) {
    RED.nodes.createNode(this, config);
    const node = this;
    startFollowingWidget(
      RED,
      node,
      config,
      { type: TYPE, field: 'sources', sources: EVENT_SOURCES, read: readEventsConfig, ids: (s) => s.sources, waitingText: 'waiting for events' },
      ({ settings, widget, status, onClose }) => {
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
        onClose(() => out.close());
        for (const id of settings.sources) {
          onClose(
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
      },
    );
  }
  RED.nodes.registerType(TYPE, VisionUiEventsNode);
};

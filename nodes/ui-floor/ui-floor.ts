/**
 * vision-ui-floor: a Dashboard 2.0 widget drawing people's floor positions with their global ids,
 * for the vision-reid node picked in its dialog (no wires). That node keeps the live floor map of
 * its calibrated cameras (nodes/lib/reid/floor-map) and hands each frame of such a camera to the
 * live feed (nodes/shared/live-feed); on that, this widget takes the map's snapshot through the
 * node's reidFloor() and publishes the picture (nodes/lib/dashboard/floor), at most 4 a second.
 * While someone is on the map it also looks once a second, so that people leave it when their
 * camera stops sending.
 */
import { Red, Node } from '../shared/red';
import { startFollowingWidget, ThrottledPublisher } from '../shared/dashboard2';
import { subscribeLive } from '../shared/live-feed';
import { FloorInput, floorView } from '../lib/dashboard/floor';
import { FLOOR_SOURCES, readFloorConfig } from './config';

const TYPE = 'vision-ui-floor';
const MIN_INTERVAL_MS = 250;
const RECHECK_MS = 1000;

type FloorReader = () => (FloorInput & { tMs: number }) | undefined;

export = function (RED: Red) {
  function VisionUiFloorNode(this: Node, config: Record<string, unknown>) {
    RED.nodes.createNode(this, config);
    const node = this;
    startFollowingWidget(
      RED,
      node,
      config,
      { type: TYPE, field: 'source', sources: FLOOR_SOURCES, read: readFloorConfig, ids: (s) => [s.source], waitingText: 'waiting for frames' },
      ({ settings, widget, status, onClose }) => {
        let shown = 0;
        const read = (): ReturnType<FloorReader> => {
          const src = RED.nodes.getNode(settings.source) as (Node & { reidFloor?: FloorReader }) | null;
          return src && typeof src.reidFloor === 'function' ? src.reidFloor() : undefined;
        };
        const out = new ThrottledPublisher(
          widget,
          () => {
            const data = read();
            if (!data) {
              status.set('warning', 'no calibrated camera: set its Floor calibration');
              shown = 0;
              return { payload: { width: 600, height: 200, areas: [], people: [], calibrated: false } };
            }
            const view = floorView({ people: data.people, areas: settings.showAreas ? data.areas : [] });
            shown = view.people.length;
            status.set('running', `${shown} on the floor · ${data.areas.length} camera${data.areas.length === 1 ? '' : 's'}`);
            return { payload: { ...view, cameras: data.areas.length, calibrated: true } };
          },
          MIN_INTERVAL_MS,
        );
        onClose(() => out.close());
        onClose(subscribeLive(settings.source, () => out.poke()));
        const recheck = setInterval(() => {
          if (shown) out.poke();
        }, RECHECK_MS);
        onClose(() => clearInterval(recheck));
        // Once deployed: a ready reid node without a calibrated camera sends nothing to the feed, so say so now.
        return () => {
          const src = RED.nodes.getNode(settings.source) as (Node & { reidStats?: () => unknown }) | null;
          if (src && typeof src.reidStats === 'function' && src.reidStats() !== undefined) out.poke();
        };
      },
    );
  }
  RED.nodes.registerType(TYPE, VisionUiFloorNode);
};

/**
 * vision-ui-tiles: a Dashboard 2.0 widget of count and KPI tiles — each line's in/out, each zone's
 * occupancy, each station's state, the shift's utilisation and units per working hour — for the
 * vision-line-count or vision-productivity-state node picked in its dialog (nodes/shared/live-feed:
 * no wires). At most two updates a second reach the browsers.
 */
import { Red, Node } from '../shared/red';
import { startFollowingWidget, ThrottledPublisher } from '../shared/dashboard2';
import { subscribeLive } from '../shared/live-feed';
import { KpiSummary, buildTiles } from '../lib/dashboard/tiles';
import { VisionFrame } from '../lib/types';
import { TILE_SOURCES, readTilesConfig } from './config';

const TYPE = 'vision-ui-tiles';
const MIN_INTERVAL_MS = 500;

export = function (RED: Red) {
  function VisionUiTilesNode(this: Node, config: Record<string, unknown>) {
    RED.nodes.createNode(this, config);
    const node = this;
    startFollowingWidget(
      RED,
      node,
      config,
      { type: TYPE, field: 'source', sources: TILE_SOURCES, read: readTilesConfig, ids: (s) => [s.source], waitingText: 'waiting for frames' },
      ({ settings, widget, status, onClose }) => {
        let frame: VisionFrame | null = null;
        let kpi: KpiSummary | null = null;
        let count = 0;
        const out = new ThrottledPublisher(
          widget,
          () => {
            const tiles = buildTiles(frame, kpi, settings.tiles);
            status.set('running', `${tiles.length} tiles · ${count} updates`);
            return { payload: { tiles } };
          },
          MIN_INTERVAL_MS,
        );
        onClose(() => out.close());
        onClose(
          subscribeLive(settings.source, (item) => {
            if (item.frame) frame = item.frame;
            if (item.kpi) kpi = item.kpi as KpiSummary;
            if (item.frame || item.kpi) {
              count++;
              out.poke();
            }
          }),
        );
      },
    );
  }
  RED.nodes.registerType(TYPE, VisionUiTilesNode);
};

/**
 * vision-ui-tiles: a Dashboard 2.0 widget of count and KPI tiles — each line's in/out, each zone's
 * occupancy, each station's state, the shift's utilisation and units per working hour — for the
 * vision-line-count or vision-productivity-state node picked in its dialog (nodes/shared/live-feed:
 * no wires). At most two updates a second reach the browsers.
 */
import { Red, Node } from '../shared/red';
import { NodeStatusReporter } from '../shared/node-status';
import { registerWidget, relinkSources, reportWidgetProblem, sourceProblem, ThrottledPublisher } from '../shared/dashboard2';
import { subscribeLive } from '../shared/live-feed';
import { KpiSummary, buildTiles } from '../lib/dashboard/tiles';
import { VisionFrame } from '../lib/types';
import { TILE_SOURCES, TilesSettings, readTilesConfig } from './config';

const TYPE = 'vision-ui-tiles';
const MIN_INTERVAL_MS = 500;

export = function (RED: Red) {
  function VisionUiTilesNode(this: Node, config: Record<string, unknown>) {
    RED.nodes.createNode(this, config);
    const node = this;
    const status = new NodeStatusReporter(node);
    const stops: (() => void)[] = [];
    node.on('close', (_removed: boolean, done: () => void) => {
      for (const s of stops) s();
      status.close();
      done();
    });
    let settings: TilesSettings;
    try {
      settings = readTilesConfig(relinkSources(RED, node, config, 'source', TILE_SOURCES));
      const widget = registerWidget(RED, node, TYPE, config);
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
      stops.push(() => out.close());
      stops.push(
        subscribeLive(settings.source, (item) => {
          if (item.frame) frame = item.frame;
          if (item.kpi) kpi = item.kpi as KpiSummary;
          if (item.frame || item.kpi) {
            count++;
            out.poke();
          }
        }),
      );
      const check = setImmediate(() => {
        const problem = sourceProblem(RED, settings.source, TILE_SOURCES);
        if (problem) status.force('error', problem);
        else status.force('idle', 'waiting for frames');
      });
      stops.push(() => clearImmediate(check));
    } catch (e) {
      stops.push(reportWidgetProblem(node, status, e as Error));
    }
  }
  RED.nodes.registerType(TYPE, VisionUiTilesNode);
};

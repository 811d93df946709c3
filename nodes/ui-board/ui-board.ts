/**
 * vision-ui-board: a Dashboard 2.0 widget with the drawing board of the vision-line-count or
 * vision-productivity-state node picked in its dialog (no wires): its lines, zones or stations on the
 * camera's newest frame, changed and applied from the dashboard by a user with the node type's write
 * permission, view-only for anyone else. Everything the board does goes through the node's board
 * routes (nodes/shared/board.ts); this node only tells the browser which node and where the admin
 * API is (ui/vision-ui-board.js mounts nodes/shared/dashboard/board-widget.js with that).
 */
import { Red, Node } from '../shared/red';
import { NodeStatusReporter } from '../shared/node-status';
import { registerWidget, relinkSources, sourceProblem, WidgetSetupError } from '../shared/dashboard2';
import { BOARD_SOURCES, readBoardWidgetConfig } from './config';

const TYPE = 'vision-ui-board';

export = function (RED: Red) {
  function VisionUiBoardNode(this: Node, config: Record<string, unknown>) {
    RED.nodes.createNode(this, config);
    const node = this;
    const status = new NodeStatusReporter(node);
    let check: NodeJS.Immediate | null = null;
    node.on('close', (_removed: boolean, done: () => void) => {
      if (check) clearImmediate(check);
      status.close();
      done();
    });
    try {
      const settings = readBoardWidgetConfig(relinkSources(RED, node, config, 'source', BOARD_SOURCES));
      const widget = registerWidget(RED, node, TYPE, config);
      const adminRoot = String(RED.settings?.httpAdminRoot ?? '/');
      // Once the flows have started: the source node's type (the board's routes are per type).
      check = setImmediate(() => {
        check = null;
        const problem = sourceProblem(RED, settings.source, BOARD_SOURCES);
        if (problem) {
          status.force('error', problem);
          return;
        }
        const src = RED.nodes.getNode(settings.source) as Node;
        widget.publish({ payload: { type: src.type, node: settings.source, adminRoot, pictureEveryS: settings.pictureEveryS } });
        status.force('running', `board of ${src.name || src.id}`);
      });
    } catch (e) {
      const err = e as Error;
      status.force('error', err.message);
      if (err instanceof WidgetSetupError) node.warn(err.message);
      else node.error(err.message);
    }
  }
  RED.nodes.registerType(TYPE, VisionUiBoardNode);
};

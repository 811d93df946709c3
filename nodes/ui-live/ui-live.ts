/**
 * vision-ui-live: a Dashboard 2.0 widget showing the annotated video of a vision-view node (picked in
 * the dialog). The node tells the browsers the view's URLs (/vision-view/<camera>.mjpg and .jpg under
 * httpNodeRoot) once it knows the camera, and again whenever it changes; the browser code
 * (ui/vision-ui-live.js) shows the stream, or the still picture while the stream fails.
 */
import { Red, Node } from '../shared/red';
import { NodeStatusReporter } from '../shared/node-status';
import { httpNodePath, registerWidget, relinkSources, reportWidgetProblem, WidgetHandle } from '../shared/dashboard2';
import { readLiveConfig, LiveSettings } from './config';

const TYPE = 'vision-ui-live';
/** How often the view's cameras are looked at again (a view without a set camera learns them from frames). */
const POLL_MS = 2000;

export = function (RED: Red) {
  function VisionUiLiveNode(this: Node, config: Record<string, unknown>) {
    RED.nodes.createNode(this, config);
    const node = this;
    const status = new NodeStatusReporter(node);
    let settings: LiveSettings;
    let widget: WidgetHandle;
    try {
      settings = readLiveConfig(relinkSources(RED, node, config, 'view', ['vision-view']));
      widget = registerWidget(RED, node, TYPE, config);
    } catch (e) {
      const stop = reportWidgetProblem(node, status, e as Error);
      node.on('close', (_removed: boolean, done: () => void) => {
        stop();
        status.close();
        done();
      });
      return;
    }

    let shown = '';
    function look(): void {
      const view = RED.nodes.getNode(settings.view);
      let payload: Record<string, unknown>;
      if (!view || view.type !== 'vision-view' || typeof view.viewCameras !== 'function') {
        payload = { error: 'the vision-view node set in this widget is not deployed' };
        status.set('error', 'no vision-view node: pick one');
      } else {
        const cams: string[] = view.viewCameras();
        const camera = settings.camera || cams[0] || '';
        if (!camera) {
          payload = { error: 'waiting for the first frame at the view' };
          status.set('idle', 'waiting for a camera at the view');
        } else {
          const base = `vision-view/${encodeURIComponent(camera)}`;
          payload = { camera, mjpeg: httpNodePath(RED, `${base}.mjpg`), still: httpNodePath(RED, `${base}.jpg`) };
          status.set('running', `${camera} · ${settings.mode === 'still' ? 'still pictures' : 'MJPEG'}`);
        }
      }
      const key = JSON.stringify(payload);
      if (key === shown) return;
      shown = key;
      widget.publish({ topic: String(payload.camera || ''), payload });
    }
    // The view may start after this node: look now, once the flow has started, and then every POLL_MS.
    const first = setImmediate(look);
    const timer = setInterval(look, POLL_MS);
    timer.unref();

    node.on('close', (_removed: boolean, done: () => void) => {
      clearImmediate(first);
      clearInterval(timer);
      status.close();
      done();
    });
  }
  RED.nodes.registerType(TYPE, VisionUiLiveNode);
};

/**
 * Glue for our Dashboard 2.0 (@flowfuse/node-red-dashboard) widgets: registering a widget node with
 * its ui-group, and pushing what it shows to the browsers that show it.
 *
 * The dashboard finds a third-party widget's browser code through package.json's
 * "node-red-dashboard-2" key, but only in packages it recognises by name (those called
 * "*node-red-dashboard-2-*", or the user dir's own package.json). This package is called
 * "@edgevision/node-red-vision", so registerWidget() tells the dashboard where our bundle is itself:
 * the same { package, name, src, component } record the dashboard would have made from our key
 * (scripts/build-widgets.js builds the bundle into resources/, which Node-RED serves at
 * /resources/<package>/…).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Node, NodeMessage, Red } from './red';
import { NodeStatusReporter } from './node-status';

interface WidgetContrib {
  package: string;
  name: string;
  src: string;
  path: string;
  component: string;
}

let contribs: Record<string, WidgetContrib> | null = null;

/** Our package.json's widgets, as the dashboard's getThirdPartyWidgets() would list them. */
export function widgetContribs(): Record<string, WidgetContrib> {
  if (contribs) return contribs;
  // dist/nodes/shared/dashboard2.js → the package root, three folders up.
  const root = path.resolve(__dirname, '..', '..', '..');
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const out: Record<string, WidgetContrib> = {};
  const widgets = (pkg['node-red-dashboard-2'] && pkg['node-red-dashboard-2'].widgets) || {};
  for (const [name, w] of Object.entries(widgets as Record<string, { output: string; component: string }>)) {
    out[name] = { package: pkg.name, name, src: w.output, path: root, component: w.component };
  }
  contribs = out;
  return out;
}

/** What a widget node can do once registered: publish what it shows (to every browser, and for late ones). */
export interface WidgetHandle {
  publish(msg: NodeMessage): void;
}

/** Why a widget cannot show: no Dashboard 2.0 installed, or no group picked. */
export class WidgetSetupError extends Error {}

interface DashboardGroup {
  register(node: Node, config: Record<string, unknown>, events: Record<string, unknown>): void;
  getBase(): DashboardBase;
}

interface DashboardBase {
  emit(event: string, msg: NodeMessage, node: Node): void;
  stores?: { data?: { save(base: DashboardBase, node: Node, msg: NodeMessage): void } };
  ui?: { widgets?: Map<string, { src?: unknown }> };
}

/**
 * Registers a widget node with the ui-group its config names. `type` is the node's type (the key in
 * package.json's "node-red-dashboard-2".widgets). Throws WidgetSetupError when the dashboard is
 * missing or no group is set; the caller shows that as the node's status.
 */
export function registerWidget(RED: Red, node: Node, type: string, config: Record<string, unknown>): WidgetHandle {
  if (!config.group) throw new WidgetSetupError('no group: pick a Dashboard 2.0 group (ui-group) in the node');
  const group = RED.nodes.getNode(String(config.group)) as DashboardGroup | null;
  if (!group || typeof group.register !== 'function' || typeof group.getBase !== 'function') {
    throw new WidgetSetupError('no Dashboard 2.0 group: install @flowfuse/node-red-dashboard and pick a ui-group');
  }
  // The dashboard keeps (and strips id, type, x, y, wires from) the object it is given: a copy.
  const props: Record<string, unknown> = { ...config };
  // No input handler of the dashboard's own: what a widget shows comes from the node it is set to.
  group.register(node, props, {});
  const base = group.getBase();
  const entry = base?.ui?.widgets?.get(node.id);
  const contrib = widgetContribs()[type];
  if (entry && !entry.src && contrib) entry.src = contrib;
  return {
    publish(msg: NodeMessage): void {
      const b = group.getBase();
      if (!b) return;
      try {
        b.stores?.data?.save(b, node, msg);
      } catch {
        /* an older dashboard without the data store: browsers that join later wait for the next message */
      }
      b.emit('msg-input:' + node.id, msg, node);
    },
  };
}

/** The browser path of a route on Node-RED's httpNode (httpNodeRoot may be "/", "/api/" or unset). */
export function httpNodePath(RED: Red, route: string): string {
  const root = String((RED.settings && RED.settings.httpNodeRoot) || '/');
  return (root.endsWith('/') ? root : root + '/') + route.replace(/^\//, '');
}

/**
 * Publishes what build() makes at most once every `minMs`: the first change at once, later ones at
 * the end of the interval (so the last state always shows). close() cancels a pending one.
 */
export class ThrottledPublisher {
  private last = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly widget: WidgetHandle,
    private readonly build: () => NodeMessage | null,
    private readonly minMs: number,
  ) {}

  poke(): void {
    if (this.timer) return;
    const wait = this.last + this.minMs - Date.now();
    if (wait <= 0) this.flush();
    else this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = null;
    this.last = Date.now();
    const msg = this.build();
    if (msg) this.widget.publish(msg);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/**
 * A widget's settings with the vision nodes it is set to (`field`: an id, or a list of ids) found
 * again after an import that gave the nodes new ids (Import ▸ copy, an example imported twice): the
 * widget still names the old ids. Each id that names no node in the flows is replaced by the node on
 * the widget's own flow tab (or, with none there, in all flows) of the type the editor kept in
 * `<field>Type`, or, without that, by the nodes of `types` there that the widget is not set to yet,
 * when there are as many as are missing;
 * the log says so. Otherwise the settings stay as they are (the status then asks to pick a node).
 * The editor does the same when the widget is imported (EdgeVisionWidget.relinkedValue), so that a
 * deploy from there saves the new ids.
 */
export function relinkSources<C extends Record<string, unknown>>(RED: Red, node: Node, config: C, field: string, types: readonly string[]): C {
  const v = config[field];
  const ids = (Array.isArray(v) ? v : typeof v === 'string' && v ? [v] : []).map(String);
  if (!ids.length || typeof RED.nodes.eachNode !== 'function') return config;
  const hint = config[`${field}Type`];
  const hints = (Array.isArray(hint) ? hint : typeof hint === 'string' && hint ? [hint] : []).map(String);
  const deployed = new Set<string>();
  const fitting: { id: string; type: string; z?: string }[] = [];
  RED.nodes.eachNode((n) => {
    deployed.add(n.id);
    if (types.includes(n.type) && !ids.includes(n.id)) fitting.push({ id: n.id, type: n.type, z: n.z });
  });
  // The widget's own flow first; the dashboard may have a flow of its own.
  let here = fitting.filter((n) => n.z === node.z);
  if (!here.length) here = fitting;
  const missing = ids.flatMap((id, i) => (deployed.has(id) ? [] : [i]));
  const byHint = hints.length === ids.length;
  if (!missing.length || (!byHint && here.length !== missing.length)) return config;
  const found = [...ids];
  for (const i of missing) {
    const pick = here.filter((n) => !byHint || n.type === hints[i]);
    if (byHint && pick.length !== 1) return config;
    found[i] = pick[0].id;
    here.splice(here.indexOf(pick[0]), 1);
  }
  const was = missing.map((i) => ids[i]).join(', ');
  const now = missing.map((i) => found[i]).join(', ');
  node.warn(`set to ${was}, which is not in the flows (imported with new ids?): showing ${now} from this flow; pick it in the dialog and deploy to keep it`);
  return { ...config, [field]: Array.isArray(v) ? found : found[0] };
}

/**
 * The vision node a widget is set to, once the flows have started: null when it is deployed and of
 * one of `types`; else the reason, for the widget's status.
 */
export function sourceProblem(RED: Red, id: string, types: readonly string[]): string | null {
  const n = RED.nodes.getNode(id);
  // Short: a status line shows 60 characters.
  if (!n) return 'its vision node is not deployed: pick one';
  if (!types.includes(n.type)) return `cannot show a ${n.type}: pick another node`;
  return null;
}

/**
 * A widget that cannot start: red status with the reason, now and once the flow has started (a Status
 * node does not see what a node reports while it is being created); logged as a warning when
 * Dashboard 2.0 or the group is missing (a setup step), as an error for a bad setting.
 */
export function reportWidgetProblem(node: Node, status: { force(state: 'error', text: string): void }, err: Error): () => void {
  status.force('error', err.message);
  if (err instanceof WidgetSetupError) node.warn(err.message);
  else node.error(err.message);
  const again = setImmediate(() => status.force('error', err.message));
  return () => clearImmediate(again);
}

/** A widget that follows vision nodes without wires (tiles, timeline, events, floor): see startFollowingWidget. */
export interface FollowingWidgetSpec<S> {
  type: string;
  /** The setting naming the vision node(s) it shows, and the types those may be. */
  field: string;
  sources: readonly string[];
  read(config: Record<string, unknown>): S;
  /** The vision node ids the settings name. */
  ids(settings: S): readonly string[];
  /** The status once they are deployed, until the first data. */
  waitingText: string;
}

export interface FollowingWidget<S> {
  settings: S;
  widget: WidgetHandle;
  status: NodeStatusReporter;
  /** Runs when the node closes (a subscription, a timer). */
  onClose(stop: () => void): void;
}

/**
 * The frame every following widget node shares: its settings read with its vision nodes found again
 * after an import (relinkSources), registered with its group, the rest set up by `build`; once the
 * flows have started, a red status with the reason when a vision node is not deployed or of another
 * type, else `waitingText` and the `ready` callback `build` may return. A bad setting or a missing
 * dashboard is reported (reportWidgetProblem) and the flow keeps running.
 */
export function startFollowingWidget<S>(
  RED: Red,
  node: Node,
  config: Record<string, unknown>,
  spec: FollowingWidgetSpec<S>,
  build: (w: FollowingWidget<S>) => (() => void) | void,
): void {
  const status = new NodeStatusReporter(node);
  const stops: (() => void)[] = [];
  node.on('close', (_removed: boolean, done: () => void) => {
    for (const s of stops) s();
    status.close();
    done();
  });
  try {
    const settings = spec.read(relinkSources(RED, node, config, spec.field, spec.sources));
    const widget = registerWidget(RED, node, spec.type, config);
    const ready = build({ settings, widget, status, onClose: (stop) => stops.push(stop) });
    const check = setImmediate(() => {
      const problem = spec
        .ids(settings)
        .map((id) => sourceProblem(RED, id, spec.sources))
        .find((p) => p !== null);
      if (problem) {
        status.force('error', problem);
        return;
      }
      status.force('idle', spec.waitingText);
      if (ready) ready();
    });
    stops.push(() => clearImmediate(check));
  } catch (e) {
    stops.push(reportWidgetProblem(node, status, e as Error));
  }
}

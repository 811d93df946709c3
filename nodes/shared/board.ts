/**
 * Lines and zones edited from a dashboard (issue 25): the drawing board of the editor
 * (nodes/shared/editor/geometry-board.js), in a dashboard widget (nodes/shared/dashboard/board-widget.js),
 * changes the geometry of a running vision-line-count or vision-productivity-state node.
 *
 * Roles are Node-RED's own (adminAuth): the routes live under httpAdmin, reading needs `<type>.read`
 * (a "read" user, the gateway's EDGEVISION_VIEWER_*), changing needs `<type>.write` (a "*" user, the
 * gateway's EDGEVISION_ADMIN_*, or a user given just that permission). Without adminAuth there are no
 * logins and anyone who reaches the admin API may edit, as in the editor itself.
 *
 * Every change is audited: who, when, the geometry before and after, in Node-RED's log (info) and as
 * a `geometry-changed` event on the node's events output; the last changes are kept in node context,
 * so that a change can be undone (also after a restart). A change names the revision it was made on:
 * a board that shows an older geometry than the node's (another tablet applied meanwhile, a config
 * message came) is refused with 409 and the current one, so nobody overwrites a change unseen.
 */
import type { Request, Response } from 'express';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Red, Node } from './red';

/** Board changes kept for undo (and shown as the recent changes), per node. */
export const MAX_BOARD_HISTORY = 20;

export type BoardAction = 'edit' | 'undo';

/** One audited change: geometry texts as the node stores them (JSON). */
export interface BoardEntry {
  action: BoardAction;
  by: string;
  tMs: number;
  before: string;
  after: string;
  /** An edit undone since (an undo skips it). */
  undone?: boolean;
}

/** What the board needs of the node whose geometry it edits. */
export interface BoardTarget {
  /** The field edited, as the node's editor names it: "geometry" (line-count) or "stations". */
  field: string;
  /** The geometry the node runs on now, as JSON text. */
  current(): string;
  /** Checks `text`, throwing with the reason before anything changes; else runs on it and keeps it (context), as a config message does. */
  apply(text: string): void;
  /** Sends one event on the node's events output. */
  emit(payload: Record<string, unknown>): void;
  /** The kept history (node context), or undefined. */
  loadHistory(): unknown;
  saveHistory(h: BoardEntry[]): void;
}

/** An error with the HTTP status the route answers with. */
export class BoardError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A geometry text with its layout removed, so that two texts of the same geometry compare equal. */
export function canonical(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text;
  }
}

/** The revision of a geometry: a short hash of its canonical text. */
export function revision(text: string): string {
  return createHash('sha1').update(canonical(text)).digest('hex').slice(0, 12);
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isEntry(e: unknown): e is BoardEntry {
  const o = e as BoardEntry;
  return (
    !!o &&
    (o.action === 'edit' || o.action === 'undo') &&
    typeof o.by === 'string' &&
    typeof o.tMs === 'number' &&
    typeof o.before === 'string' &&
    typeof o.after === 'string'
  );
}

/**
 * The edits of one node's geometry from dashboards: apply, undo, the audit trail. Glue: it reads the
 * clock (`now`, injectable) and writes the node's log.
 */
export class BoardEdits {
  private history: BoardEntry[] = [];

  constructor(
    private readonly node: Node,
    private readonly target: BoardTarget,
    private readonly now: () => number = Date.now,
  ) {
    const kept = target.loadHistory();
    if (Array.isArray(kept)) this.history = kept.filter(isEntry).slice(-MAX_BOARD_HISTORY);
  }

  /** The node's geometry, its revision, whether there is a change to undo, and the recent changes (newest first, without their geometry). */
  state(): { field: string; geometry: unknown; rev: string; canUndo: boolean; history: { action: BoardAction; by: string; tMs: number; undone: boolean }[] } {
    const text = this.target.current();
    return {
      field: this.target.field,
      geometry: parsed(text),
      rev: revision(text),
      canUndo: this.undoable() !== null,
      history: this.history
        .slice()
        .reverse()
        .map((e) => ({ action: e.action, by: e.by, tMs: e.tMs, undone: !!e.undone })),
    };
  }

  /** Replaces the geometry with `geometry` (an object or JSON text), made on revision `rev`; returns the audited entry. */
  edit(geometry: unknown, by: string, rev: unknown): BoardEntry {
    const text = typeof geometry === 'string' ? geometry : JSON.stringify(geometry ?? null);
    this.checkRev(rev);
    return this.change('edit', text, by);
  }

  /**
   * Undoes the newest edit not undone yet, when it is still in force: back to the geometry before
   * it (undo again for the one before). Refused when the geometry has changed since by other means
   * (a config message, a redeploy with another one).
   */
  undo(by: string, rev: unknown): BoardEntry {
    this.checkRev(rev);
    const i = this.undoable();
    if (i === null) throw new BoardError(409, 'nothing to undo: no change from a dashboard is in force now');
    const undone = this.history[i];
    const e = this.change('undo', undone.before, by);
    undone.undone = true; // by reference: change() may have shifted the list
    this.target.saveHistory(this.history);
    return e;
  }

  /** Index of the change an undo reverts: the newest edit whose result is the geometry in force. */
  private undoable(): number | null {
    const now = canonical(this.target.current());
    for (let i = this.history.length - 1; i >= 0; i--) {
      if (this.history[i].action !== 'edit' || this.history[i].undone) continue;
      return canonical(this.history[i].after) === now ? i : null;
    }
    return null;
  }

  private checkRev(rev: unknown): void {
    const cur = revision(this.target.current());
    if (typeof rev !== 'string' || rev !== cur)
      throw new BoardError(409, 'the geometry has changed since this board loaded it: reload the board, then make the change again');
  }

  private change(action: BoardAction, text: string, by: string): BoardEntry {
    const before = this.target.current();
    try {
      this.target.apply(text);
    } catch (e) {
      throw new BoardError(400, (e as Error).message);
    }
    const after = this.target.current();
    const entry: BoardEntry = { action, by, tMs: this.now(), before, after };
    this.history.push(entry);
    this.history = this.history.slice(-MAX_BOARD_HISTORY);
    this.target.saveHistory(this.history);
    this.node.log(
      `${this.target.field} ${action === 'undo' ? 'change undone' : 'changed'} from a dashboard by ${by}: before ${canonical(before)} after ${canonical(after)}`,
    );
    this.target.emit({
      event: 'geometry-changed',
      node: this.node.id,
      field: this.target.field,
      action,
      by,
      tMs: entry.tMs,
      before: parsed(before),
      after: parsed(after),
      rev: revision(after),
    });
    return entry;
  }
}

/** Node-RED's permission rule (editor-api auth/permissions.js): "*" all, "read"/"write" any *.read/*.write, else the very permission. */
export function hasPermission(scope: unknown, permission: string): boolean {
  if (Array.isArray(scope)) return scope.some((s) => hasPermission(s, permission));
  if (scope === '*' || scope === permission) return true;
  if (scope === 'read' || scope === '*.read') return /^((.+)\.)?read$/.test(permission);
  if (scope === 'write' || scope === '*.write') return /^((.+)\.)?write$/.test(permission);
  return false;
}

interface AuthedRequest extends Request {
  user?: { username?: string; anonymous?: boolean };
  authInfo?: { scope?: unknown };
}

/** Who made a request: the login, "anonymous" for adminAuth's default user, "no login" where adminAuth is off. */
function who(req: AuthedRequest): string {
  if (!req.user) return 'no login';
  return req.user.anonymous || !req.user.username ? 'anonymous' : String(req.user.username);
}

type Handler = (req: Request, res: Response, next: () => void) => void;

function permission(RED: Red, name: string): Handler {
  return RED.auth?.needsPermission ? RED.auth.needsPermission(name) : (_q: Request, _s: Response, next: () => void) => next();
}

const widgetRouters = new WeakSet<object>();

/** The widget's browser code: the editor's board, then the widget around it (one file, one request). */
function widgetScript(): string {
  return ['editor/geometry-board.js', 'dashboard/board-widget.js'].map((f) => fs.readFileSync(path.join(__dirname, f), 'utf8')).join('\n');
}

/**
 * The board routes of one node type, under the admin root (httpAdmin):
 *
 * - `GET  <type>/:id/board`: the geometry, its revision, `canEdit` for this login, `user`, the
 *   recent changes (`<type>.read`);
 * - `PUT  <type>/:id/board` `{geometry, rev}`: apply (`<type>.write`); 400 with the reason when the
 *   geometry is wrong, 409 when `rev` is not the node's;
 * - `POST <type>/:id/board/undo` `{rev}`: undo the newest change in force (`<type>.write`);
 * - `GET  vision-board/widget.js`: the widget's browser code (no login: it holds no data).
 *
 * The picture under the drawing is the snapshot route's (nodes/shared/snapshot.ts).
 */
export function registerBoardRoutes(RED: Red, type: string): void {
  const admin = RED.httpAdmin;
  if (!admin) return;
  if (!widgetRouters.has(admin)) {
    widgetRouters.add(admin);
    let code: string | null = null;
    admin.get('/vision-board/widget.js', (_req: Request, res: Response) => {
      try {
        code ??= widgetScript();
      } catch (e) {
        res
          .status(500)
          .type('text/plain')
          .send(`cannot read the widget code: ${(e as Error).message}`);
        return;
      }
      res.set({ 'Content-Type': 'application/javascript; charset=utf-8', 'Cache-Control': 'no-cache' });
      res.send(code);
    });
  }
  const edits = (req: Request, res: Response): BoardEdits | null => {
    const n = RED.nodes.getNode(req.params.id) as (Node & { boardEdits?: BoardEdits }) | null;
    if (!n || n.type !== type || !(n.boardEdits instanceof BoardEdits)) {
      res.status(404).json({ error: `no deployed ${type} node with id "${req.params.id}": deploy the flow, or pick the node again in the widget` });
      return null;
    }
    return n.boardEdits;
  };
  const answer = (res: Response, req: AuthedRequest, b: BoardEdits, extra: Record<string, unknown> = {}) => {
    const canEdit = !req.user || hasPermission(req.authInfo?.scope, `${type}.write`);
    res.set('Cache-Control', 'no-store');
    res.json({ ...b.state(), canEdit, user: who(req), ...extra });
  };
  const fail = (res: Response, e: unknown, b: BoardEdits, req: AuthedRequest) => {
    const status = e instanceof BoardError ? e.status : 500;
    const state = b.state();
    res.status(status).json({ error: (e as Error).message, ...(status === 409 ? { current: state.geometry, rev: state.rev } : {}), user: who(req) });
  };
  const audit = (req: Request, event: string, id: string) => {
    // Node-RED's audit log too (settings logging.console.audit), with the request's user and address.
    if (typeof RED.log?.audit === 'function') RED.log.audit({ event: `${type}.${event}`, node: id }, req);
  };

  admin.get(`/${type}/:id/board`, permission(RED, `${type}.read`), (req: Request, res: Response) => {
    const b = edits(req, res);
    if (b) answer(res, req as AuthedRequest, b);
  });
  admin.put(`/${type}/:id/board`, permission(RED, `${type}.write`), (req: Request, res: Response) => {
    const b = edits(req, res);
    if (!b) return;
    const body = (req.body ?? {}) as { geometry?: unknown; rev?: unknown };
    try {
      if (body.geometry === undefined) throw new BoardError(400, 'the request needs {"geometry": {…}, "rev": "…"}');
      const e = b.edit(body.geometry, who(req as AuthedRequest), body.rev);
      audit(req, 'board.edit', req.params.id);
      answer(res, req as AuthedRequest, b, { applied: { action: e.action, tMs: e.tMs } });
    } catch (e) {
      fail(res, e, b, req as AuthedRequest);
    }
  });
  admin.post(`/${type}/:id/board/undo`, permission(RED, `${type}.write`), (req: Request, res: Response) => {
    const b = edits(req, res);
    if (!b) return;
    try {
      const e = b.undo(who(req as AuthedRequest), (req.body ?? {}).rev);
      audit(req, 'board.undo', req.params.id);
      answer(res, req as AuthedRequest, b, { applied: { action: e.action, tMs: e.tMs } });
    } catch (e) {
      fail(res, e, b, req as AuthedRequest);
    }
  });
}

/**
 * The small slice of the Node-RED runtime API our glue uses, typed by hand (no @types/node-red, which
 * lags the runtime). Loose only where Node-RED itself is: a message carries anything, and a node
 * object carries whatever its constructor put on it.
 */
import type { NextFunction, Request, Response, Router } from 'express';

export interface NodeMessage {
  _msgid?: string;
  topic?: string;
  // A message's payload and properties are whatever the sender put there; the glue checks them
  // (messageKind, boundDetections) before the engine sees them.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  payload?: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [key: string]: any;
}

export type SendFn = (msg: NodeMessage | (NodeMessage | NodeMessage[] | null)[] | null) => void;
export type DoneFn = (err?: Error) => void;

export interface ContextStore {
  get(key: string, store?: string): unknown;
  get(key: string, store: string | undefined, cb: (err: Error | null, value: unknown) => void): void;
  set(key: string, value: unknown, store?: string): void;
  set(key: string, value: unknown, store: string | undefined, cb: (err?: Error | null) => void): void;
}

export interface Node {
  id: string;
  name?: string;
  credentials?: Record<string, string | undefined>;
  on(event: 'input', fn: (msg: NodeMessage, send: SendFn, done: DoneFn) => void): void;
  on(event: 'close', fn: (removed: boolean, done: () => void) => void): void;
  send(msg: NodeMessage | (NodeMessage | NodeMessage[] | null)[] | null): void;
  status(s: object): void;
  error(err: unknown, msg?: NodeMessage): void;
  warn(text: unknown): void;
  log(text: unknown): void;
  context(): { get: ContextStore['get']; set: ContextStore['set'] };
  // What each node's constructor adds to it (its engine, timers, methods for its HTTP routes).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [key: string]: any;
}

/** registerType's options: which credentials the node keeps out of the flow file. */
export interface RegisterTypeOptions {
  credentials?: Record<string, { type: 'text' | 'password' }>;
  settings?: Record<string, { value: unknown; exportable?: boolean }>;
}

export interface Red {
  nodes: {
    createNode(node: Node, config: object): void;
    registerType<N extends Node, C>(type: string, ctor: (this: N, config: C) => void, opts?: RegisterTypeOptions): void;
    getNode(id: string): Node | null;
    /** Every node's settings in the deployed flows (started or not). */
    eachNode?(cb: (n: { id: string; type: string; z?: string }) => void): void;
  };
  settings: Record<string, unknown> & { userDir?: string };
  util: { cloneMessage<T>(msg: T): T; getSetting?(node: Node, name: string): unknown };
  log: { info(t: string): void; warn(t: string): void; error(t: string): void; audit?(msg: object, req?: unknown): void };
  /** Express routers (Node-RED 3–5 run Express 4). */
  httpAdmin?: Router;
  httpNode?: Router;
  /** The admin API's permission checks (absent when the editor has no login). */
  auth?: { needsPermission(permission: string): (req: Request, res: Response, next?: NextFunction) => void };
  /** Message-routing hooks (Node-RED ≥ 2): the app benchmark times deliveries with them. */
  hooks?: { add(name: string, fn: (event: DeliveryEvent) => void): void; remove(name: string): void };
}

/** What a `postDeliver` hook is told: the message and the nodes it went between. */
export interface DeliveryEvent {
  msg: NodeMessage;
  source: { id: string; node?: Node };
  destination: { id: string; node?: Node };
}

/**
 * The small slice of the Node-RED runtime API our glue uses, typed by hand (no @types/node-red, which
 * lags the runtime). Kept deliberately loose where Node-RED itself is.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- Node-RED's own API is loosely typed: messages and config objects carry anything */
import type { Router } from 'express';

export interface NodeMessage {
  _msgid?: string;
  topic?: string;
  payload?: any;
  [key: string]: any;
}

export type SendFn = (msg: NodeMessage | (NodeMessage | NodeMessage[] | null)[] | null) => void;
export type DoneFn = (err?: Error) => void;

export interface ContextStore {
  get(key: string, store?: string): any;
  get(key: string, store: string | undefined, cb: (err: Error | null, value: any) => void): void;
  set(key: string, value: any, store?: string): void;
  set(key: string, value: any, store: string | undefined, cb: (err?: Error | null) => void): void;
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
  [key: string]: any;
}

export interface Red {
  nodes: {
    createNode(node: any, config: any): void;
    registerType(type: string, ctor: any, opts?: any): void;
    getNode(id: string): any;
  };
  settings: Record<string, any> & { userDir?: string };
  util: { cloneMessage<T>(msg: T): T; getSetting?(node: any, name: string): any };
  log: { info(t: string): void; warn(t: string): void; error(t: string): void; audit?(msg: object, req?: unknown): void };
  /** Express routers (Node-RED 3–5 run Express 4). */
  httpAdmin?: Router;
  httpNode?: Router;
  [key: string]: any;
}

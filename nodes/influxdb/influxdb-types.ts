/** The contract between vision-influxdb and the writer nodes that share it. */
import { Node } from '../shared/red';
import { Forwarder, ForwarderStats, LinkState, DeadLetterFate } from '../lib/influx/forwarder';
import { SpoolRecord, SpoolStats } from '../lib/influx/spool';
import { TransportError } from '../lib/influx/transport';

/** What a writer node registers to hear about the shared link. */
export interface InfluxUser {
  id: string;
  onState(state: LinkState, detail: string): void;
  onReplayRejected(rec: SpoolRecord, err: TransportError, fate: DeadLetterFate): void;
  onDropped(points: number): void;
}

export interface InfluxConfigNode extends Node {
  acquire(user: InfluxUser): Promise<Forwarder>;
  release(id: string): void;
  linkState(): { state: LinkState; detail: string };
  /** The shared link's counters and spool figures; null until the first writer connected. */
  stats(): ForwarderStats | null;
  /** Pings the server now (the editor's "check connection" button). */
  check(): Promise<{ ok: boolean; target: string; version?: string; error?: string; spool?: SpoolStats | null }>;
  spoolDir: string;
  /** Where batches refused as malformed are kept: `<spoolDir>/deadletter.jsonl`. */
  deadLetterFile: string;
  target: string;
}

/**
 * vision-reid's identity exchange over MQTT (the `mqtt` package): publishes the records of this
 * gateway's ended tracks, hears other gateways' records and hands them to the node. The rules (what
 * a record holds, which are accepted, the outbound bound) live in nodes/lib/reid/exchange.ts; this
 * file is only the client: connect, subscribe, publish what the queue holds while connected.
 *
 * QoS 1 both ways, persistent session (clean: false, client id "edgevision-reid-<gateway>-<node id>"), so a
 * short disconnection loses nothing the broker queued; records are never retained (a record is an
 * event; a retained one would be replayed to every late subscriber long after its gallery TTL).
 * Presence: a retained {online} message per gateway with a last will that says offline.
 *
 * Live records (confirmed tracks still in view) go QoS 0 on `…/<camera>/live` and only while
 * connected: a live record is superseded within a second, so it is never queued or redelivered.
 */
import * as mqtt from 'mqtt';
import {
  DEFAULT_EXCHANGE_LIMITS,
  IdentityRecord,
  OutboundQueue,
  RemoteIntake,
  decodeRecord,
  encodeRecord,
  identityTopic,
  liveSubscriptionTopic,
  liveTopic,
  presenceTopic,
  subscriptionTopic,
} from '../lib/reid/exchange';

export interface ShareSettings {
  /** mqtt://, mqtts://, ws:// or wss:// URL. */
  broker: string;
  gateway: string;
  root: string;
  /** Records kept while the broker is away. */
  queueSize: number;
  /** Live tracks: sent at least this often (ms) and heard from others; 0 turns live sharing off. */
  liveEveryMs: number;
  username?: string;
  password?: string;
  /** Makes the client id unique and stable: the node's id ("edgevision-reid-<gateway>-<node id>"). */
  clientSuffix?: string;
  /** TLS options (ca, cert, key, rejectUnauthorized, servername) from a tls-config node. */
  tls?: Record<string, unknown>;
}

/** Publishes in flight at most (the mqtt client's own store stays this small). */
const MAX_IN_FLIGHT = 32;

export type ShareState = 'connecting' | 'connected' | 'offline' | 'closed';

export interface ShareStats {
  state: ShareState;
  sent: number;
  received: number;
  accepted: number;
  refused: number;
  queued: number;
  /** Published, not yet acknowledged by the broker. */
  inFlight: number;
  dropped: number;
  /** Live records sent, and accepted from other gateways. */
  liveSent: number;
  liveAccepted: number;
  lastError?: string;
  lastRefused?: string;
}

export class IdentityShare {
  private client?: mqtt.MqttClient;
  private readonly queue: OutboundQueue<{ topic: string; payload: string }>;
  private readonly intake: RemoteIntake;
  private inFlight = 0;
  private s: ShareStats;
  private readonly live: boolean;

  constructor(
    readonly settings: ShareSettings,
    readonly modelId: string,
    readonly dim: number,
    /** An ended record of another gateway (accepted: new, to enter the gallery) or a live record (always accepted). */
    private readonly onRecord: (r: IdentityRecord, accepted: boolean) => void,
    private readonly onChange: () => void = () => {},
  ) {
    this.queue = new OutboundQueue(settings.queueSize);
    this.live = settings.liveEveryMs > 0;
    this.intake = new RemoteIntake(settings.gateway);
    this.s = { state: 'connecting', sent: 0, received: 0, accepted: 0, refused: 0, queued: 0, inFlight: 0, dropped: 0, liveSent: 0, liveAccepted: 0 };
  }

  start(): void {
    const st = this.settings;
    const presence = presenceTopic(st.root, st.gateway);
    const opts: mqtt.IClientOptions = {
      clientId: `edgevision-reid-${st.gateway}${st.clientSuffix ? `-${st.clientSuffix}` : ''}`.slice(0, 128),
      clean: false,
      reconnectPeriod: 2000,
      connectTimeout: 10000,
      keepalive: 30,
      queueQoSZero: false,
      will: { topic: presence, payload: Buffer.from(JSON.stringify({ online: false, gateway: st.gateway })), qos: 1, retain: true },
      ...(st.username ? { username: st.username } : {}),
      ...(st.password ? { password: st.password } : {}),
      ...(st.tls ?? {}),
    };
    const c = mqtt.connect(st.broker, opts);
    this.client = c;
    c.on('connect', () => {
      this.s.state = 'connected';
      this.s.lastError = undefined;
      const topics: mqtt.ISubscriptionMap = { [subscriptionTopic(st.root, this.modelId)]: { qos: 1 } };
      if (this.live) topics[liveSubscriptionTopic(st.root, this.modelId)] = { qos: 0 };
      c.subscribe(topics, (err) => {
        if (err) this.fail(`subscribe: ${err.message}`);
        // Presence after the subscription: whoever sees this gateway online can count on it hearing.
        else c.publish(presence, JSON.stringify({ online: true, gateway: st.gateway, modelId: this.modelId }), { qos: 1, retain: true }, () => {});
      });
      this.changed();
      this.flush();
    });
    c.on('reconnect', () => {
      if (this.s.state !== 'closed') this.s.state = 'connecting';
      this.changed();
    });
    c.on('offline', () => {
      if (this.s.state !== 'closed') this.s.state = 'offline';
      this.changed();
    });
    c.on('close', () => {
      if (this.s.state === 'connected') this.s.state = 'offline';
      this.changed();
    });
    c.on('error', (e) => this.fail(e.message));
    c.on('message', (_topic, payload) => this.receive(payload));
  }

  private fail(reason: string): void {
    this.s.lastError = reason;
    this.changed();
  }

  private changed(): void {
    try {
      this.onChange();
    } catch {
      /* a status update must not break the client's event loop */
    }
  }

  private receive(payload: Buffer): void {
    this.s.received++;
    let r: IdentityRecord;
    try {
      r = decodeRecord(payload, { modelId: this.modelId, dim: this.dim }, DEFAULT_EXCHANGE_LIMITS);
    } catch (e) {
      this.s.refused++;
      this.s.lastRefused = (e as Error).message;
      this.changed();
      return;
    }
    if (r.state === 'live') {
      if (!this.live || this.intake.judgeLive(r) !== 'accept') return;
      this.s.liveAccepted++;
      this.onRecord(r, true);
      return;
    }
    const verdict = this.intake.judge(r);
    if (verdict === 'own') return;
    this.intake.forgetLive(r);
    if (verdict === 'accept') this.s.accepted++;
    // Told even when the record is not new: the track it ends stops being live here.
    this.onRecord(r, verdict === 'accept');
  }

  /** A live record of this gateway: sent now when connected (QoS 0), else dropped (the next one supersedes it). */
  publishLive(r: IdentityRecord): void {
    const c = this.client;
    if (this.s.state === 'closed' || !c || !c.connected) return;
    this.s.liveSent++;
    c.publish(liveTopic(this.settings.root, this.modelId, r.gateway, r.camera), encodeRecord(r), { qos: 0, retain: false }, () => {});
  }

  /** Queues one record of this gateway and sends what the connection allows. */
  publish(r: IdentityRecord): void {
    if (this.s.state === 'closed') return;
    this.intake.noteLocal(r.globalId, r.endMs);
    this.queue.push({ topic: identityTopic(this.settings.root, this.modelId, r.gateway, r.camera), payload: encodeRecord(r) });
    this.flush();
  }

  private flush(): void {
    const c = this.client;
    while (c && c.connected && this.inFlight < MAX_IN_FLIGHT && this.queue.length) {
      const [m] = this.queue.take(1);
      this.inFlight++;
      c.publish(m.topic, m.payload, { qos: 1, retain: false }, (err) => {
        this.inFlight--;
        if (err) {
          // Not acknowledged (connection lost): back to the front of the queue, sent again on reconnect.
          this.queue.unshift([m]);
          this.fail(`publish: ${err.message}`);
        } else this.s.sent++;
        this.flush();
      });
    }
  }

  stats(): ShareStats {
    return { ...this.s, queued: this.queue.length, inFlight: this.inFlight, dropped: this.queue.dropped };
  }

  /** One short phrase for the node status. */
  brief(): string {
    const s = this.stats();
    if (s.state === 'connected') return `mqtt ${s.sent}↑ ${s.accepted}↓${s.refused ? ` ${s.refused} refused` : ''}`;
    return `mqtt ${s.state}${s.queued ? `, ${s.queued} queued` : ''}${s.lastError ? `: ${s.lastError}` : ''}`;
  }

  /** Says offline (retained) and disconnects; waits at most `ms`. */
  close(ms = 2000): Promise<void> {
    const c = this.client;
    this.s.state = 'closed';
    if (!c) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => c.end(true, {}, finish), ms);
      const end = () => c.end(false, {}, finish);
      if (c.connected)
        c.publish(
          presenceTopic(this.settings.root, this.settings.gateway),
          JSON.stringify({ online: false, gateway: this.settings.gateway }),
          { qos: 1, retain: true },
          end,
        );
      else c.end(true, {}, finish);
    });
  }
}

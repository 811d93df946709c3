/**
 * What waits for vision-detect's model, in two kinds with two back-pressure rules:
 *
 * - **camera frames** (a FrameRef from a source that keeps producing): the newest waiting frame of a
 *   camera replaces the older one (newest wins), so a slow detector lags instead of queueing. A
 *   camera whose source waits for the detector (a file replayed at full speed) may keep a few in
 *   arrival order instead (`keep`): its source never gets far ahead, and every frame is detected.
 * - **images** (a JPEG/PNG/WebP Buffer from MQTT, HTTP, a file): every one must be answered (an
 *   HTTP request waits for it), so they queue per topic in arrival order, at most `perTopic` at a
 *   time; beyond that `offerImage` refuses. An image can be taken once it is decoded (`ready`); one
 *   still decoding holds back the later images of its topic (their order is kept), nothing else.
 *
 * `take` hands out the earliest arrivals first across both kinds, so neither starves the other: a
 * camera frame waits at most for the images that arrived before it. The queue owns no frames and no
 * clock; the job type is the caller's.
 *
 * Both kinds are bounded in cameras and topics too (`maxTopics` each): a frame of one camera too many
 * pushes out the oldest waiting frame (another dropped frame), an image of one topic too many is
 * refused. So a flow that sends a new msg.topic with every message costs a bounded queue.
 */

/** Cameras (and, separately, image topics) waiting at once unless told otherwise. */
export const DEFAULT_MAX_TOPICS = 256;

/** An image's place in the queue, returned by offerImage. */
export interface ImageTicket {
  readonly topic: string;
}

interface Entry<J> {
  job: J;
  arrival: number;
  ready: boolean;
  topic: string;
}

export class DetectQueue<J> {
  private arrivals = 0;
  /** Each camera's waiting frames, oldest first (one, unless offered with keep > 1). */
  private readonly frames = new Map<string, Entry<J>[]>();
  private readonly images = new Map<string, Entry<J>[]>();

  constructor(
    readonly perTopic: number,
    readonly maxTopics: number = DEFAULT_MAX_TOPICS,
  ) {
    if (!Number.isInteger(perTopic) || perTopic < 1) throw new Error(`images waiting per topic must be a whole number ≥ 1, got ${perTopic}`);
    if (!Number.isInteger(maxTopics) || maxTopics < 1) throw new Error(`cameras waiting must be a whole number ≥ 1, got ${maxTopics}`);
  }

  /**
   * A camera frame waits; returns the frames that no longer wait because of it (the caller completes
   * them as dropped): beyond `keep` frames of that camera the oldest of them (keep 1: newest wins),
   * or, for a camera beyond maxTopics, the frames of the camera that has waited longest.
   */
  offerFrame(camera: string, job: J, keep = 1): J[] {
    const out: J[] = [];
    let q = this.frames.get(camera);
    if (!q && this.frames.size >= this.maxTopics) {
      let oldest: Entry<J>[] | undefined;
      for (const w of this.frames.values()) if (!oldest || w[0].arrival < oldest[0].arrival) oldest = w;
      this.frames.delete(oldest![0].topic);
      out.push(...oldest!.map((e) => e.job));
    }
    if (!q) {
      q = [];
      this.frames.set(camera, q);
    }
    q.push({ job, arrival: this.arrivals++, ready: true, topic: camera });
    while (q.length > Math.max(1, keep)) out.push(q.shift()!.job);
    return out;
  }

  /**
   * An image joins its topic's queue, not yet takeable; undefined when `perTopic` already wait there,
   * or when it is a new topic and maxTopics topics already wait (see `imageTopics`).
   */
  offerImage(topic: string, job: J): ImageTicket | undefined {
    let q = this.images.get(topic);
    if (q && q.length >= this.perTopic) return undefined;
    if (!q && this.images.size >= this.maxTopics) return undefined;
    if (!q) {
      q = [];
      this.images.set(topic, q);
    }
    const e: Entry<J> = { job, arrival: this.arrivals++, ready: false, topic };
    q.push(e);
    return e;
  }

  /** The image is decoded and may be taken in its turn. False when it no longer waits (drained). */
  ready(ticket: ImageTicket): boolean {
    const e = ticket as Entry<J>;
    if (!this.images.get(e.topic)?.includes(e)) return false;
    e.ready = true;
    return true;
  }

  /** The image leaves the queue without being taken (it could not be decoded). False when it no longer waits. */
  remove(ticket: ImageTicket): boolean {
    const e = ticket as Entry<J>;
    const q = this.images.get(e.topic);
    const i = q ? q.indexOf(e) : -1;
    if (i < 0) return false;
    q!.splice(i, 1);
    if (q!.length === 0) this.images.delete(e.topic);
    return true;
  }

  /** Up to `max` jobs, earliest arrival first: camera frames, and the decoded head of each topic's images. */
  take(max: number): J[] {
    const out: J[] = [];
    while (out.length < max) {
      let best: Entry<J> | undefined;
      for (const q of this.frames.values()) if (!best || q[0].arrival < best.arrival) best = q[0];
      for (const q of this.images.values()) if (q[0].ready && (!best || q[0].arrival < best.arrival)) best = q[0];
      if (!best) break;
      const fq = this.frames.get(best.topic);
      if (fq && fq[0] === best) {
        fq.shift();
        if (!fq.length) this.frames.delete(best.topic);
      } else this.remove(best);
      out.push(best.job);
    }
    return out;
  }

  /** Topics with images waiting. */
  get imageTopics(): number {
    return this.images.size;
  }

  /** Images of `topic` waiting, decoded or not. */
  imagesWaiting(topic: string): number {
    return this.images.get(topic)?.length ?? 0;
  }

  /** Every job still waiting, in arrival order; the queue is empty afterwards (the node closes or fails). */
  drain(): J[] {
    const all: Entry<J>[] = [];
    for (const q of this.frames.values()) all.push(...q);
    for (const q of this.images.values()) all.push(...q);
    this.frames.clear();
    this.images.clear();
    return all.sort((a, b) => a.arrival - b.arrival).map((e) => e.job);
  }

  /** Jobs waiting, of both kinds. */
  get size(): number {
    let n = 0;
    for (const q of this.frames.values()) n += q.length;
    for (const q of this.images.values()) n += q.length;
    return n;
  }
}

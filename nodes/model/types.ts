/** What a vision-model config node offers the nodes that use it (vision-detect, vision-reid). */
import { Node } from '../shared/red';
import { LoadedEmbeddingModel, LoadedModel } from '../lib/model/loader';

export interface VisionModelNode extends Node {
  /** Shares the session with `user`; rejects with the reason when the model cannot be used. */
  acquire(user: Node): Promise<LoadedModel>;
  /** `user` is done with it; the last user to leave releases the session. */
  release(user: Node): Promise<void>;
  /** As acquire, for an embedding (re-id) model: the session and its embedding spec. */
  acquireEmbedding(user: Node): Promise<LoadedEmbeddingModel>;
  /** What the model is, for labels and logs. */
  describe(): string;
}

/**
 * vision-model: a config node that owns one ONNX Runtime session for the nodes that use it (10-mqtt's
 * register/deregister pattern). The session is created lazily by the first user, shared with every
 * other user of the same file and providers, and released when the last user closes. Config nodes
 * have no status of their own: users show the active provider, and failures (a model file that is
 * missing, with how to get it), in theirs. The dialog's admin routes (list, upload, fetch into
 * <userDir>/edgevision/) are in routes.ts.
 */
import { Red, Node } from '../shared/red';
import { LoadedEmbeddingModel, LoadedModel, ModelSettings, acquireEmbeddingModel, acquireModel, releaseModel } from '../lib/model/loader';
import { ModelNodeConfig, settingsFromConfig } from './config';
import { VisionModelNode } from './types';
import { providerText } from '../lib/onnx/session';
import { registerAssetRoutes } from './routes';

export = function (RED: Red) {
  function VisionModel(this: VisionModelNode, config: ModelNodeConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    let settings: ModelSettings | undefined;
    let configError: string | undefined;
    try {
      settings = settingsFromConfig(config, RED.settings.userDir);
      if (!settings.model) throw new Error('no model: set a manifest name (yolox_nano) or the path of an .onnx file');
    } catch (e) {
      configError = (e as Error).message;
    }
    /** Users holding the session, by node id → the session key they hold. */
    const holders = new Map<string, string>();
    let closed = false;

    node.describe = () => `${config.name || settings?.model || 'model'} (${providerText(settings?.providers ?? 'auto')})`;

    node.acquire = async (user: Node): Promise<LoadedModel> => {
      if (closed) throw new Error('the vision-model node is closing');
      if (configError) throw new Error(configError);
      const loaded = await acquireModel(settings!, user.id);
      holders.set(user.id, loaded.key);
      for (const w of loaded.spec.warnings) node.warn(`${loaded.file}: ${w}`);
      node.log(
        `${loaded.file}: ${loaded.spec.format} ${loaded.spec.inputWidth}×${loaded.spec.inputHeight}, ${loaded.spec.labels.length} classes, provider ${loaded.providerText}`,
      );
      const b = loaded.batch;
      if (b && b.madeDynamic.length) {
        node.log(
          `batch made dynamic (${b.madeDynamic.join(', ')}), up to ${loaded.spec.maxBatch} a run${b.reshapesFixed.length ? `; ${b.reshapesFixed.length} reshapes follow the batch now` : ''}`,
        );
      }
      return loaded;
    };

    node.acquireEmbedding = async (user: Node): Promise<LoadedEmbeddingModel> => {
      if (closed) throw new Error('the vision-model node is closing');
      if (configError) throw new Error(configError);
      const loaded = await acquireEmbeddingModel(settings!, user.id);
      holders.set(user.id, loaded.key);
      node.log(`${loaded.file}: embedding ${loaded.spec.inputWidth}×${loaded.spec.inputHeight} → ${loaded.spec.dim}-d, provider ${loaded.providerText}`);
      return loaded;
    };

    node.release = async (user: Node): Promise<void> => {
      const key = holders.get(user.id);
      if (key === undefined) return;
      holders.delete(user.id);
      await releaseModel(key, user.id);
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      // Users release on their own close; anything still held (a user that failed to) goes now.
      const left = [...holders.entries()];
      holders.clear();
      Promise.all(left.map(([user, key]) => releaseModel(key, user)))
        .catch((e) => node.warn(`releasing the model session: ${(e as Error).message}`))
        .then(() => done());
    });
  }
  RED.nodes.registerType('vision-model', VisionModel);
  registerAssetRoutes(RED);
};

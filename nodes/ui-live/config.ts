/**
 * vision-ui-live editor config → settings, with the shared readers (nodes/shared/config).
 */
import { choice, configError, number, text } from '../shared/config';

export interface LiveSettings {
  /** The vision-view node whose picture this shows. */
  view: string;
  /** One of its cameras; blank: the camera the view is set to, else the first it serves. */
  camera: string;
  /** "auto": the MJPEG stream, the still picture while the stream fails; "still": only stills. */
  mode: 'auto' | 'still';
  /** How often the still picture is fetched again (ms). */
  stillMs: number;
}

export function readLiveConfig(c: Record<string, unknown>): LiveSettings {
  const view = text(c.view);
  if (!view) throw configError('view', 'a vision-view node', c.view);
  const camera = text(c.camera);
  if (camera && !/^[A-Za-z0-9_.:-]+$/.test(camera)) throw configError('camera', 'letters, digits and _ . : -', c.camera);
  return {
    view,
    camera,
    mode: choice(c.mode, 'mode', ['auto', 'still'] as const, 'auto'),
    stillMs: Math.round(number(c.stillMs, 'still refresh', 1000, { min: 200, max: 60000 })),
  };
}

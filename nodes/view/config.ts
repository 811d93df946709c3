/**
 * vision-view editor config and `topic: "config"` messages → ViewSettings (render.ts), with the
 * shared readers (nodes/shared/config).
 */
import { bool, configError, number } from '../shared/config';
import { VIEW_DEFAULTS, ViewSettings } from '../lib/view/render';
import { parseViewGeometry } from '../lib/view/overlay';

/** The settings a config message may change (the editor's fields of the same names). */
export const SETTING_KEYS = ['geometry', 'stations', 'maxWidth', 'maxFps', 'quality', 'showTentative', 'caption', 'sendJpeg'];

/** "Send JPEG": "never" (default) or "every" frame; a config message may also say true/false. */
function sendMode(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 'never' || v === false) return false;
  if (v === 'every' || v === true) return true;
  throw configError('send JPEG', '"never" or "every"', v);
}

/** Editor config (with a config message's settings over it) → settings; throws with the field and what is wrong. */
export function readViewConfig(c: Record<string, unknown>): ViewSettings {
  return {
    maxWidth: Math.round(number(c.maxWidth, 'max width', VIEW_DEFAULTS.maxWidth, { min: 0, max: 8192 })),
    maxFps: number(c.maxFps, 'max fps', VIEW_DEFAULTS.maxFps, { min: 0, max: 60 }),
    quality: Math.round(number(c.quality, 'JPEG quality', VIEW_DEFAULTS.quality, { min: 10, max: 100 })),
    showTentative: bool(c.showTentative, 'show tentative tracks', VIEW_DEFAULTS.showTentative),
    caption: bool(c.caption, 'caption', VIEW_DEFAULTS.caption),
    sendJpeg: sendMode(c.sendJpeg),
    geometry: parseViewGeometry(c.geometry, c.stations),
  };
}

/** A config message's patch (its `reset` already taken out): only the settings above. */
export function readViewPatch(patch: unknown): Record<string, unknown> {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) throw new Error('config payload must be an object of settings');
  for (const k of Object.keys(patch)) {
    if (!SETTING_KEYS.includes(k)) throw new Error(`unknown view setting "${k}" (settings: ${SETTING_KEYS.join(', ')})`);
  }
  return patch as Record<string, unknown>;
}

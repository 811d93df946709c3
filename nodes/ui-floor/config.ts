/**
 * vision-ui-floor editor config → settings, with the shared readers (nodes/shared/config).
 */
import { bool, configError, text } from '../shared/config';

export const FLOOR_SOURCES = ['vision-reid'] as const;

export interface FloorSettings {
  source: string;
  /** Draw each calibrated camera's floor area under the people. */
  showAreas: boolean;
}

export function readFloorConfig(c: Record<string, unknown>): FloorSettings {
  const source = text(c.source);
  if (!source) throw configError('node', 'a vision-reid node', c.source);
  return { source, showAreas: bool(c.showAreas, 'show camera areas', true) };
}

/**
 * vision-ui-board editor config → settings, with the shared readers (nodes/shared/config).
 */
import { configError, number, text } from '../shared/config';

export const BOARD_SOURCES = ['vision-line-count', 'vision-productivity-state'] as const;

export interface BoardWidgetSettings {
  /** The vision-line-count / vision-productivity-state node whose geometry the board edits. */
  source: string;
  /** Reload the camera picture this often (s); 0 = on demand only. */
  pictureEveryS: number;
}

export function readBoardWidgetConfig(c: Record<string, unknown>): BoardWidgetSettings {
  const source = text(c.source);
  if (!source) throw configError('node', 'a vision-line-count or vision-productivity-state node', c.source);
  return { source, pictureEveryS: number(c.pictureEveryS, 'picture every', 0, { min: 0, note: 'seconds' }) };
}

/**
 * vision-ui-timeline editor config → settings, with the shared readers (nodes/shared/config).
 */
import { configError, number, text } from '../shared/config';

export const TIMELINE_SOURCES = ['vision-productivity-state'] as const;

export interface TimelineSettings {
  source: string;
  windowMs: number;
}

export function readTimelineConfig(c: Record<string, unknown>): TimelineSettings {
  const source = text(c.source);
  if (!source) throw configError('node', 'a vision-productivity-state node', c.source);
  return { source, windowMs: Math.round(number(c.windowMin, 'window', 10, { min: 1, max: 24 * 60 }) * 60_000) };
}

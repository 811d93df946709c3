/**
 * vision-ui-events editor config → settings, with the shared readers (nodes/shared/config).
 */
import { configError, list, number } from '../shared/config';

export const EVENT_SOURCES = ['vision-line-count', 'vision-productivity-state'] as const;

export interface EventsSettings {
  sources: string[];
  rows: number;
}

export function readEventsConfig(c: Record<string, unknown>): EventsSettings {
  const sources = list(c.sources);
  if (!sources.length) throw configError('nodes', 'one or more vision-line-count / vision-productivity-state nodes', c.sources);
  if (sources.length > 8) throw configError('nodes', 'at most 8 nodes', c.sources);
  return { sources, rows: Math.round(number(c.rows, 'rows', 12, { min: 1, max: 200 })) };
}

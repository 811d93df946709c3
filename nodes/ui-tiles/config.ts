/**
 * vision-ui-tiles editor config → settings, with the shared readers (nodes/shared/config).
 */
import { bool, configError, text } from '../shared/config';
import { TILE_DEFAULTS, TileOptions } from '../lib/dashboard/tiles';

export const TILE_SOURCES = ['vision-line-count', 'vision-productivity-state'] as const;

export interface TilesSettings {
  source: string;
  tiles: TileOptions;
}

export function readTilesConfig(c: Record<string, unknown>): TilesSettings {
  const source = text(c.source);
  if (!source) throw configError('node', 'a vision-line-count or vision-productivity-state node', c.source);
  return {
    source,
    tiles: {
      counts: bool(c.showCounts, 'show counts', TILE_DEFAULTS.counts),
      zones: bool(c.showZones, 'show zones', TILE_DEFAULTS.zones),
      stations: bool(c.showStations, 'show stations', TILE_DEFAULTS.stations),
      kpi: bool(c.showKpi, 'show KPIs', TILE_DEFAULTS.kpi),
      maxTiles: TILE_DEFAULTS.maxTiles,
    },
  };
}

/**
 * vision-influx-write editor config → the engine writer's settings, read with the shared readers
 * (nodes/shared/config.ts): blank takes the default, a value outside what the dialog accepts is an
 * error that names the field. The ranges are the dialog's validators' (influx-write.html); nothing
 * is clamped.
 */
import { bool, choice, list, number, text } from '../shared/config';
import { PRECISIONS } from '../lib/influx/line-protocol';
import { hasControlChar } from '../lib/control-chars';
import { WriterSettings, WRITER_DEFAULTS } from '../lib/influx/writer';

export interface InfluxWriteConfig {
  measurement?: string;
  overrideMeasurement?: boolean | string;
  precision?: string;
  integerFields?: string | string[];
  batchSize?: string | number;
  flushInterval?: string | number;
  tags?: string;
}

/** Editor config → writer settings. Throws `<label> must be <rule>, got "<value>"` for a value the dialog refuses. */
export function writerSettings(c: InfluxWriteConfig): WriterSettings {
  return {
    precision: choice(c.precision, 'Precision', PRECISIONS, WRITER_DEFAULTS.precision),
    measurement: text(c.measurement),
    overrideMeasurement: bool(c.overrideMeasurement, 'also replace the measurement of batch points', false),
    integerFields: list(c.integerFields),
    batchSize: number(c.batchSize, 'Batch size', WRITER_DEFAULTS.batchSize, { integer: true, min: 1, max: 100000 }),
    flushMs: number(c.flushInterval, 'Flush after', WRITER_DEFAULTS.flushMs, { integer: true, min: 10, max: 600000 }),
    tags: readTags(c.tags),
  };
}

/**
 * "gateway=line-2, site=plant-1" → {gateway: 'line-2', site: 'plant-1'}. Node-RED replaces a field
 * that is exactly ${VAR} by the environment variable, so "${EDGEVISION_INFLUX_TAGS}" lets each
 * gateway's environment name it.
 */
export function readTags(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of list(v)) {
    const eq = part.indexOf('=');
    const key = eq > 0 ? part.slice(0, eq).trim() : '';
    const value = eq > 0 ? part.slice(eq + 1).trim() : '';
    if (!key || !value || key.startsWith('_') || hasControlChar(key + value) || (key + value).includes('\\')) {
      throw new Error(`Tags must be key=value pairs separated by commas (keys not starting with _), got "${part}"`);
    }
    out[key] = value;
  }
  return out;
}

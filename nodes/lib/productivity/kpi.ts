/**
 * KPI arithmetic. All durations are seconds of event time over one period (the shift so far, or the
 * rolling window), counting only the observed part of it (from the first event the node saw).
 *
 *   elapsed_s            = working_s + idle_s + absent_s
 *   utilisation          = 100 · working_s / elapsed_s            (%, 0 when nothing observed)
 *   staffed_utilisation  = 100 · working_s / (working_s + idle_s) (%, share of staffed time spent working)
 *   occupancy_s          = time at least one worker was present (presence with inertia)
 *   units_per_working_hour = units / (working_s / 3600)        (0 when working_s = 0)
 *   throughput_per_hour  = units / (elapsed_s / 3600)          (0 when elapsed_s = 0)
 *
 * The factory figures add the stations' seconds and units first and then apply the same formulas, so
 * factory utilisation is working station-time over observed station-time.
 * A worker's figures cover only the time they were present at a station: elapsed_s = occupancy_s =
 * working_s + idle_s, absent_s = 0, and utilisation = 100 · working_s / occupancy_s.
 */

export interface Kpi {
  working_s: number;
  idle_s: number;
  absent_s: number;
  elapsed_s: number;
  occupancy_s: number;
  utilisation: number;
  staffed_utilisation: number;
  units: number;
  units_per_working_hour: number;
  throughput_per_hour: number;
}

export interface KpiInputs {
  workingMs: number;
  idleMs: number;
  absentMs: number;
  occupancyMs: number;
  units: number;
}

/** Rounds to a millisecond so that sums of seconds compare exactly in reports and tests. */
function sec(ms: number): number {
  return Math.round(ms) / 1000;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function computeKpi(i: KpiInputs): Kpi {
  const elapsedMs = i.workingMs + i.idleMs + i.absentMs;
  const staffedMs = i.workingMs + i.idleMs;
  return {
    working_s: sec(i.workingMs),
    idle_s: sec(i.idleMs),
    absent_s: sec(i.absentMs),
    elapsed_s: sec(elapsedMs),
    occupancy_s: sec(i.occupancyMs),
    utilisation: elapsedMs > 0 ? round((100 * i.workingMs) / elapsedMs, 3) : 0,
    staffed_utilisation: staffedMs > 0 ? round((100 * i.workingMs) / staffedMs, 3) : 0,
    units: i.units,
    units_per_working_hour: i.workingMs > 0 ? round(i.units / (i.workingMs / 3600000), 3) : 0,
    throughput_per_hour: elapsedMs > 0 ? round(i.units / (elapsedMs / 3600000), 3) : 0,
  };
}

export function sumInputs(list: readonly KpiInputs[]): KpiInputs {
  const s: KpiInputs = { workingMs: 0, idleMs: 0, absentMs: 0, occupancyMs: 0, units: 0 };
  for (const i of list) {
    s.workingMs += i.workingMs;
    s.idleMs += i.idleMs;
    s.absentMs += i.absentMs;
    s.occupancyMs += i.occupancyMs;
    s.units += i.units;
  }
  return s;
}

/**
 * ffmpeg hardware decoding and scaling for a camera source: NVIDIA (`-hwaccel cuda` with
 * `scale_cuda`, or `scale_npp` where ffmpeg has only that), Intel/AMD through VAAPI (`scale_vaapi`)
 * and Intel Quick Sync (`scale_qsv`). Decoded frames stay on the GPU through the scaler and come
 * down (`hwdownload`) already at the size the consumers want, so the CPU neither decodes nor scales.
 *
 * Whether a machine can do it is asked of ffmpeg itself before a source uses it (probeArgs: create
 * the device, push one small frame through the scaler and back); a source whose probe fails decodes
 * in software and says why (decideHwaccel). `auto` tries cuda, vaapi, qsv in that order.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';

export const HWACCEL_REQUESTS = ['none', 'auto', 'cuda', 'vaapi', 'qsv'] as const;
export type HwaccelRequest = (typeof HWACCEL_REQUESTS)[number];
export type HwaccelKind = 'cuda' | 'vaapi' | 'qsv';

/** What a source decodes with: a hardware method and its scaler, or software (with the reason, when hardware was asked for). */
export interface HwaccelChoice {
  kind?: HwaccelKind;
  /** The GPU scaling filter (scale_cuda, scale_npp, scale_vaapi, scale_qsv). */
  scaler?: string;
  /** The device (a DRM render node for VAAPI, a GPU index for CUDA); '' = the default. */
  device?: string;
  /** Why hardware decoding is not used, when it was asked for. */
  fallback?: string;
}

const DEFAULT_VAAPI_DEVICE = '/dev/dri/renderD128';

/** Scalers to try for a method, best first. */
export function scalersFor(kind: HwaccelKind): string[] {
  return kind === 'cuda' ? ['scale_cuda', 'scale_npp'] : [`scale_${kind}`];
}

/** `-init_hw_device` value for a method and device. */
function deviceSpec(kind: HwaccelKind, device: string): string {
  if (kind === 'vaapi') return `vaapi=hw:${device || DEFAULT_VAAPI_DEVICE}`;
  return device ? `${kind}=hw:${device}` : `${kind}=hw`;
}

/**
 * ffmpeg arguments that succeed only where the method works end to end: create the device, upload a
 * tiny generated frame, scale it with `scaler` on the GPU, download it.
 */
export function probeArgs(kind: HwaccelKind, scaler: string, device = ''): string[] {
  const upload = kind === 'qsv' ? 'hwupload=extra_hw_frames=16' : 'hwupload';
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-init_hw_device',
    deviceSpec(kind, device),
    '-filter_hw_device',
    'hw',
    '-f',
    'lavfi',
    '-i',
    'color=c=black:s=64x64:d=0.1',
    '-vf',
    `format=nv12,${upload},${scaler}=w=32:h=32,hwdownload,format=nv12`,
    '-frames:v',
    '1',
    '-f',
    'null',
    '-',
  ];
}

/** The line of a failed probe's stderr that says why, without ffmpeg's "[Context @ 0x…]" prefix. */
export function probeReason(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/i, '').trim())
    .filter((l) => l);
  const pick = lines.find((l) => /cannot load|could not|no such|not found|no device|unsupported|no filter|not supported/i.test(l)) ?? lines[0];
  return pick ?? 'ffmpeg failed';
}

/** ffmpeg's arguments before `-i` for hardware decoding (frames stay on the GPU). */
export function hwaccelInputArgs(c: HwaccelChoice): string[] {
  if (!c.kind) return [];
  const dev = c.device ?? '';
  switch (c.kind) {
    case 'cuda':
      return ['-hwaccel', 'cuda', ...(dev ? ['-hwaccel_device', dev] : []), '-hwaccel_output_format', 'cuda'];
    case 'vaapi':
      return ['-hwaccel', 'vaapi', '-hwaccel_device', dev || DEFAULT_VAAPI_DEVICE, '-hwaccel_output_format', 'vaapi'];
    case 'qsv':
      return ['-hwaccel', 'qsv', ...(dev ? ['-qsv_device', dev] : []), '-hwaccel_output_format', 'qsv'];
  }
}

/**
 * The video filters of a hardware-decoded source: the frame-rate limit (on GPU frames: it only
 * drops frames), the GPU scaler when a maximum width is set (only ever shrinking, the height even),
 * then download to system memory as nv12, which the output's `-pix_fmt rgb24` converts.
 */
export function hwaccelFilters(c: HwaccelChoice, fps?: number, maxWidth?: number): string[] {
  const out: string[] = [];
  if (fps && fps > 0) out.push(`fps=${fps}`);
  if (maxWidth && maxWidth > 0) {
    const w = Math.round(maxWidth);
    const scaler = c.scaler ?? scalersFor(c.kind!)[0];
    const fmt = c.kind === 'vaapi' || c.kind === 'qsv' ? ':format=nv12' : scaler === 'scale_cuda' ? ':format=nv12' : '';
    out.push(`${scaler}=w='min(${w},iw)':h=-2${fmt}`);
  }
  out.push('hwdownload', 'format=nv12');
  return out;
}

export interface ProbeResult {
  ok: boolean;
  /** Why not, when not ok. */
  reason: string;
}

/** Runs ffmpeg with `args` and says whether it worked (injectable: tests hand in their own). */
export type ProbeRunner = (args: string[]) => Promise<ProbeResult>;

/**
 * What a source asking for `request` decodes with, after asking ffmpeg (`run`) whether each
 * candidate works. Software, with every candidate's reason, when none does.
 */
export async function decideHwaccel(
  request: HwaccelRequest,
  run: ProbeRunner,
  device = '',
  exists: (p: string) => boolean = fs.existsSync,
): Promise<HwaccelChoice> {
  if (request === 'none') return {};
  const kinds: HwaccelKind[] = request === 'auto' ? ['cuda', 'vaapi', 'qsv'] : [request];
  const why: string[] = [];
  for (const kind of kinds) {
    if (kind === 'vaapi' && !exists(device || DEFAULT_VAAPI_DEVICE)) {
      why.push(`vaapi: no ${device || DEFAULT_VAAPI_DEVICE}`);
      continue;
    }
    let reason = '';
    for (const scaler of scalersFor(kind)) {
      const r = await run(probeArgs(kind, scaler, device));
      if (r.ok) return { kind, scaler, device };
      reason = reason || r.reason;
    }
    why.push(`${kind}: ${reason}`);
  }
  return { fallback: why.join('; ') };
}

/** A ProbeRunner that spawns `ffmpegPath` (an argument array, never a shell), killed after `timeoutMs`. */
export function spawnProbe(ffmpegPath: string, timeoutMs = 15000): ProbeRunner {
  return (args) =>
    new Promise((resolve) => {
      let stderr = '';
      let done = false;
      const finish = (r: ProbeResult) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(r);
      };
      const proc = spawn(ffmpegPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        finish({ ok: false, reason: `ffmpeg did not answer within ${timeoutMs / 1000} s` });
      }, timeoutMs);
      proc.stderr!.on('data', (c: Buffer) => {
        if (stderr.length < 8192) stderr += c.toString('utf8');
      });
      proc.on('error', (e) => finish({ ok: false, reason: `cannot run ffmpeg: ${e.message}` }));
      proc.on('close', (code) => finish(code === 0 ? { ok: true, reason: '' } : { ok: false, reason: probeReason(stderr) }));
    });
}

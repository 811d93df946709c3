/** vision-camera-source editor config → source settings, with the shared readers (nodes/shared/config). */
import { bool, choice, number, text } from '../shared/config';
import { HWACCEL_REQUESTS, HwaccelRequest } from '../lib/video/hwaccel';

export interface CameraSourceConfig {
  name?: string;
  camera?: string;
  url?: string;
  rtspTransport?: string;
  fps?: string | number;
  maxWidth?: string | number;
  /** 'source': frames as the camera sends them (capped by maxWidth); 'readers': as large as its readers need. */
  frameSize?: string;
  realtime?: boolean | string;
  loop?: boolean | string;
  autoStart?: boolean | string;
  reconnect?: boolean | string;
  ffmpegPath?: string;
  /** Comma-separated schemes, /dev/video* and folders a msg.url may name (source-policy.ts). */
  allowedSources?: string;
  hwaccel?: string;
  hwDevice?: string;
}

export interface CameraSourceSettings {
  /** The configured source, trimmed ('' = none). */
  url: string;
  /** Frame-rate limit; 0 = the source's own. */
  fps: number;
  /** Frames wider than this are scaled down; 0 = as they come. */
  maxWidth: number;
  /**
   * 'readers': ffmpeg scales frames to the largest size the stages reading them said they need
   * (FrameStore.wantedSide: detect its model's input, a view its picture; re-id the full frame), and
   * the source restarts at the new size when that changes. 'source' (default): no such scaling.
   */
  frameSize: 'source' | 'readers';
  realtime: boolean;
  loop: boolean;
  autoStart: boolean;
  reconnect: boolean;
  rtspTransport: 'tcp' | 'udp';
  ffmpegPath?: string;
  /** Hardware decoding and scaling: none (software), auto, cuda, vaapi or qsv. */
  hwaccel: HwaccelRequest;
  /** The device for it ('' = the default: GPU 0, /dev/dri/renderD128). */
  hwDevice: string;
}

/** What a node whose config is wrong runs with: nothing (it stays red with the reason). */
export const CAMERA_SOURCE_DEFAULTS: Readonly<CameraSourceSettings> = Object.freeze({
  url: '',
  fps: 0,
  maxWidth: 0,
  frameSize: 'source',
  realtime: true,
  loop: true,
  autoStart: true,
  reconnect: true,
  rtspTransport: 'tcp',
  hwaccel: 'none',
  hwDevice: '',
});

/** The camera id: the Camera field, else the node's name, else its id. Never fails. */
export function cameraIdOf(c: CameraSourceConfig, nodeId: string): string {
  return text(typeof c.camera === 'string' ? c.camera : '') || text(typeof c.name === 'string' ? c.name : '') || nodeId;
}

/** A GPU index or a /dev/dri render node; nothing ffmpeg could read as another option. */
function hwDevice(v: unknown): string {
  const t = text(typeof v === 'string' ? v : '');
  if (t && !/^(\d{1,2}|\/dev\/dri\/[A-Za-z0-9]+)$/.test(t))
    throw new Error(`hardware device must be a GPU number or /dev/dri/renderD128-style path, got "${t}"`);
  return t;
}

/** Editor config → settings; throws `<label> must be <rule>, got "<value>"` for the first bad field. */
export function readCameraSourceConfig(c: CameraSourceConfig): CameraSourceSettings {
  const ffmpegPath = text(c.ffmpegPath);
  return {
    url: text(c.url),
    fps: number(c.fps, 'frame-rate limit', 0, { min: 0 }),
    maxWidth: number(c.maxWidth, 'maximum width', 0, { min: 0 }),
    frameSize: choice(c.frameSize, 'frame size', ['source', 'readers'] as const, 'source'),
    realtime: bool(c.realtime, 'play files at real speed', true),
    loop: bool(c.loop, 'loop files', true),
    autoStart: bool(c.autoStart, 'start on deploy', true),
    reconnect: bool(c.reconnect, 'reconnect', true),
    rtspTransport: choice(c.rtspTransport, 'RTSP over', ['tcp', 'udp'] as const, 'tcp'),
    hwaccel: choice(c.hwaccel, 'hardware decoding', HWACCEL_REQUESTS, 'none'),
    hwDevice: hwDevice(c.hwDevice),
    ...(ffmpegPath ? { ffmpegPath } : {}),
  };
}

/** vision-camera-source editor config → source settings, with the shared readers (nodes/shared/config). */
import { bool, choice, number, text } from '../shared/config';

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
});

/** The camera id: the Camera field, else the node's name, else its id. Never fails. */
export function cameraIdOf(c: CameraSourceConfig, nodeId: string): string {
  return text(typeof c.camera === 'string' ? c.camera : '') || text(typeof c.name === 'string' ? c.name : '') || nodeId;
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
    ...(ffmpegPath ? { ffmpegPath } : {}),
  };
}

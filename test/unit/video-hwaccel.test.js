'use strict';
// Hardware decoding for camera sources (hwaccel.ts): the ffmpeg arguments for each method, the
// choice after probing (fallback to software with every reason), and the real probe on this machine.
const assert = require('assert');
const { ffmpegArgs } = require('../../dist/nodes/lib/video/ffmpeg-args');
const { decideHwaccel, hwaccelFilters, hwaccelInputArgs, probeArgs, probeReason, spawnProbe } = require('../../dist/nodes/lib/video/hwaccel');
const { readCameraSourceConfig } = require('../../dist/nodes/camera-source/config');

describe('video hardware decoding (hwaccel)', () => {
  it('cuda: decode and scale on the GPU, download nv12, before -i and in -vf', () => {
    const args = ffmpegArgs({ url: '/clips/a.mp4', fps: 7, maxWidth: 416, hwaccel: { kind: 'cuda', scaler: 'scale_cuda' } });
    const i = args.indexOf('-i');
    assert.deepStrictEqual(args.slice(i - 4, i), ['-hwaccel', 'cuda', '-hwaccel_output_format', 'cuda']);
    assert.strictEqual(args[args.indexOf('-vf') + 1], "fps=7,scale_cuda=w='min(416,iw)':h=-2:format=nv12,hwdownload,format=nv12");
    assert.strictEqual(args[args.indexOf('-pix_fmt') + 1], 'rgb24');
  });

  it('scale_npp, VAAPI and QSV have their own arguments; without a width only the download', () => {
    assert.deepStrictEqual(hwaccelFilters({ kind: 'cuda', scaler: 'scale_npp' }, 0, 640), ["scale_npp=w='min(640,iw)':h=-2", 'hwdownload', 'format=nv12']);
    assert.deepStrictEqual(hwaccelFilters({ kind: 'vaapi', scaler: 'scale_vaapi' }), ['hwdownload', 'format=nv12']);
    assert.deepStrictEqual(hwaccelInputArgs({ kind: 'vaapi' }), [
      '-hwaccel',
      'vaapi',
      '-hwaccel_device',
      '/dev/dri/renderD128',
      '-hwaccel_output_format',
      'vaapi',
    ]);
    assert.deepStrictEqual(hwaccelInputArgs({ kind: 'qsv', device: '1' }), ['-hwaccel', 'qsv', '-qsv_device', '1', '-hwaccel_output_format', 'qsv']);
    assert.deepStrictEqual(hwaccelInputArgs({ kind: 'cuda', device: '1' }), ['-hwaccel', 'cuda', '-hwaccel_device', '1', '-hwaccel_output_format', 'cuda']);
    // Software (no kind, or a fallback) leaves the arguments as they always were.
    const sw = ffmpegArgs({ url: '/clips/a.mp4', maxWidth: 416 });
    assert.deepStrictEqual(ffmpegArgs({ url: '/clips/a.mp4', maxWidth: 416, hwaccel: { fallback: 'cuda: no' } }), sw);
    assert.ok(!sw.includes('-hwaccel'));
    assert.strictEqual(sw[sw.indexOf('-vf') + 1], "scale='min(416,iw)':-2");
  });

  it('the probe pushes one frame through the device and its scaler', () => {
    const a = probeArgs('vaapi', 'scale_vaapi');
    assert.strictEqual(a[a.indexOf('-init_hw_device') + 1], 'vaapi=hw:/dev/dri/renderD128');
    assert.match(a[a.indexOf('-vf') + 1], /^format=nv12,hwupload,scale_vaapi=w=32:h=32,hwdownload,format=nv12$/);
    assert.strictEqual(probeArgs('cuda', 'scale_cuda', '1')[probeArgs('cuda', 'scale_cuda', '1').indexOf('-init_hw_device') + 1], 'cuda=hw:1');
    assert.strictEqual(
      probeReason(
        '[AVHWDeviceContext @ 0x55d1] Cannot load libcuda.so.1\n[AVHWDeviceContext @ 0x55d1] Could not dynamically load CUDA\nDevice creation failed: -1.\n',
      ),
      'Cannot load libcuda.so.1',
    );
  });

  it('chooses the first method that works, the second scaler when the first is missing, else software with every reason', async () => {
    const asked = [];
    const run = (works) => async (args) => {
      const vf = args[args.indexOf('-vf') + 1];
      asked.push(vf.match(/scale_\w+/)[0]);
      return works.some((w) => vf.includes(w)) ? { ok: true, reason: '' } : { ok: false, reason: `no ${vf.match(/scale_\w+/)[0]}` };
    };
    assert.deepStrictEqual(await decideHwaccel('cuda', run(['scale_npp'])), { kind: 'cuda', scaler: 'scale_npp', device: '' });
    assert.deepStrictEqual(asked, ['scale_cuda', 'scale_npp']);
    const none = await decideHwaccel('auto', run([]), '', () => false);
    assert.deepStrictEqual(none, { fallback: 'cuda: no scale_cuda; vaapi: no /dev/dri/renderD128; qsv: no scale_qsv' });
    assert.deepStrictEqual(await decideHwaccel('auto', run(['scale_vaapi']), '', () => true), { kind: 'vaapi', scaler: 'scale_vaapi', device: '' });
    assert.deepStrictEqual(await decideHwaccel('none', run([])), {});
  });

  it('the real probe on this machine answers, with a reason when it says no', async function () {
    this.timeout(30000);
    const r = await spawnProbe('ffmpeg')(probeArgs('cuda', 'scale_cuda'));
    if (!r.ok) assert.match(r.reason, /libcuda|CUDA|device|failed/i);
    const missing = await spawnProbe('/no/such/ffmpeg')(probeArgs('cuda', 'scale_cuda'));
    assert.deepStrictEqual(missing.ok, false);
    assert.match(missing.reason, /cannot run ffmpeg: .*ENOENT/);
  });

  it('the editor fields: Decode on and device, checked', () => {
    assert.strictEqual(readCameraSourceConfig({ url: 'a.mp4' }).hwaccel, 'none');
    assert.strictEqual(readCameraSourceConfig({ url: 'a.mp4', hwaccel: 'vaapi', hwDevice: '/dev/dri/renderD129' }).hwDevice, '/dev/dri/renderD129');
    assert.throws(() => readCameraSourceConfig({ url: 'a.mp4', hwaccel: 'metal' }), /hardware decoding/);
    assert.throws(() => readCameraSourceConfig({ url: 'a.mp4', hwDevice: '-i /etc/passwd' }), /hardware device must be a GPU number/);
  });
});

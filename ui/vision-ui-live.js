/* global visionWidget */
// vision-ui-live: the annotated video of a vision-view node. The node sends {camera, mjpeg, still}
// (the view's URLs); the widget shows the MJPEG stream in an <img> that takes the widget's width and
// keeps the picture's proportions, so nothing is cropped at any width. If the stream fails (a proxy
// that buffers multipart responses, the flow being redeployed) or the widget is set to "still", it
// shows the still picture instead, fetched again every `stillMs`, and tries the stream again after a
// while. data-mode on the widget says which it shows ("mjpeg", "still" or "waiting").
var RETRY_STREAM_MS = 15000;

module.exports = visionWidget({
  name: 'VisionUiLive',
  css: [
    '.ev-live{width:100%;display:flex;flex-direction:column;gap:4px}',
    '.ev-live-label{font-size:13px;opacity:.8}',
    '.ev-live-frame{width:100%;max-width:100%;overflow:hidden;background:#222;border-radius:4px;line-height:0}',
    '.ev-live-img{display:block;width:100%;height:auto;max-width:100%;object-fit:contain}',
    '.ev-live-wait{line-height:1.4;color:#bbb;padding:24px 8px;text-align:center;font-size:13px}',
    '.ev-live--fixed{height:100%}',
    '.ev-live--fixed .ev-live-frame{flex:1 1 auto;min-height:0}',
    '.ev-live--fixed .ev-live-img{width:100%;height:100%;object-fit:contain}',
  ].join('\n'),
  data: function () {
    return { stillMode: false, stamp: 0, failed: 0 };
  },
  computed: {
    wantStill: function () {
      return this.props.mode === 'still';
    },
    showing: function () {
      var p = this.msg && this.msg.payload;
      if (!p || !p.mjpeg) return 'waiting';
      return this.wantStill || this.stillMode ? 'still' : 'mjpeg';
    },
  },
  watch: {
    showing: function (now) {
      this.schedule(now);
    },
  },
  methods: {
    schedule: function (mode) {
      var self = this;
      clearInterval(this._evStill);
      clearTimeout(this._evRetry);
      this._evStill = null;
      if (mode !== 'still') return;
      var every = Math.max(200, Number(this.props.stillMs) || 1000);
      this.stamp = Date.now();
      this._evStill = setInterval(function () {
        self.stamp = Date.now();
      }, every);
      if (!this.wantStill) {
        this._evRetry = setTimeout(function () {
          self.stillMode = false;
        }, RETRY_STREAM_MS);
      }
    },
    onError: function () {
      this.failed++;
      if (this.showing === 'mjpeg') this.stillMode = true;
    },
  },
  mounted: function () {
    this.schedule(this.showing);
  },
  unmounted: function () {
    clearInterval(this._evStill);
    clearTimeout(this._evRetry);
  },
  render: function (h, p) {
    var mode = this.showing;
    var children = [];
    if (this.props.label) children.push(h('div', { class: 'ev-live-label' }, this.props.label));
    var inner;
    if (mode === 'waiting') {
      inner = h('div', { class: 'ev-live-wait' }, p && p.error ? p.error : 'waiting for the camera…');
    } else {
      var src =
        mode === 'mjpeg'
          ? p.mjpeg + (p.mjpeg.indexOf('?') < 0 ? '?' : '&') + 'w=' + this.id
          : p.still + (p.still.indexOf('?') < 0 ? '?' : '&') + 't=' + this.stamp;
      inner = h('img', {
        class: 'ev-live-img',
        src: src,
        alt: 'live video of ' + (p.camera || 'the camera'),
        onError: this.onError,
      });
    }
    children.push(h('div', { class: 'ev-live-frame' }, [inner]));
    // A widget given a height (rows of the dashboard's grid) shows the whole picture within it,
    // letterboxed; otherwise the picture takes the widget's width and its own proportions.
    var fixed = Number(this.props.height) > 0;
    return h('div', { class: 'ev-live' + (fixed ? ' ev-live--fixed' : ''), 'data-mode': mode, 'data-camera': (p && p.camera) || '' }, children);
  },
});

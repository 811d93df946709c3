/* global visionWidget */
// vision-ui-floor: people's floor positions with their global ids, in an SVG that takes the widget's
// width and keeps the floor's proportions. The node sends {width, height, areas: [{camera, points}],
// people: [{globalId, camera, x, y, hue}], cameras, calibrated}, already in view-box coordinates.
module.exports = visionWidget({
  name: 'VisionUiFloor',
  css: [
    '.ev-floor{width:100%;font-size:12px}',
    '.ev-floor-label{font-size:13px;opacity:.8;margin-bottom:4px}',
    '.ev-floor-svg{display:block;width:100%;height:auto;max-width:100%;background:#f4f6f8;border:1px solid #cfd8dc;border-radius:3px}',
    '.ev-floor-note{opacity:.65;margin-top:4px}',
    '.ev-floor-wait{opacity:.6;padding:8px 0}',
  ].join('\n'),
  // The drawing scales with the widget; dots and ids keep a readable size in screen pixels.
  data: function () {
    return { px: 0 };
  },
  mounted: function () {
    var self = this;
    var measure = function () {
      var svg = self.$el && self.$el.querySelector ? self.$el.querySelector('.ev-floor-svg') : null;
      var w = svg ? svg.getBoundingClientRect().width : 0;
      if (w && Math.abs(w - self.px) > 1) self.px = w;
    };
    if (typeof ResizeObserver !== 'undefined') {
      this._evResize = new ResizeObserver(measure);
      this._evResize.observe(this.$el);
    }
    this._evTimer = setInterval(measure, 1000);
  },
  unmounted: function () {
    if (this._evResize) this._evResize.disconnect();
    clearInterval(this._evTimer);
  },
  render: function (h, p) {
    var children = [];
    if (this.props.label) children.push(h('div', { class: 'ev-floor-label' }, this.props.label));
    if (!p) {
      children.push(h('div', { class: 'ev-floor-wait' }, 'waiting for the first frame…'));
      return h('div', { class: 'ev-floor' }, children);
    }
    // View-box units per screen pixel.
    var u = this.px ? p.width / this.px : 1;
    var shapes = [];
    (p.areas || []).forEach(function (a) {
      var pts = a.points || [];
      shapes.push(
        h('polygon', {
          class: 'ev-floor-area',
          'data-camera': a.camera,
          points: pts
            .map(function (q) {
              return q[0] + ',' + q[1];
            })
            .join(' '),
          fill: '#e3eaf0',
          stroke: '#90a4ae',
          'stroke-dasharray': '4 3',
        }),
      );
      if (pts.length) shapes.push(h('text', { x: pts[0][0] + 4 * u, y: pts[0][1] - 4 * u, 'font-size': 11 * u, fill: '#78909c' }, a.camera));
    });
    (p.people || []).forEach(function (q) {
      var col = 'hsl(' + q.hue + ',70%,40%)';
      // Near the right edge the id goes on the dot's left, so that it is not cut off.
      var left = q.x > p.width - 80 * u;
      shapes.push(
        h('g', { key: q.globalId, class: 'ev-floor-person', 'data-global-id': q.globalId, 'data-camera': q.camera }, [
          h('circle', { class: 'ev-floor-dot', cx: q.x, cy: q.y, r: 6 * u, fill: col, stroke: '#fff', 'stroke-width': 1.5 * u }),
          h(
            'text',
            {
              class: 'ev-floor-id',
              x: q.x + (left ? -9 : 9) * u,
              y: q.y + 4.5 * u,
              'text-anchor': left ? 'end' : 'start',
              'font-size': 13 * u,
              'font-weight': 600,
              fill: col,
              stroke: '#fff',
              'stroke-width': 3 * u,
              'paint-order': 'stroke',
            },
            q.globalId,
          ),
        ]),
      );
    });
    children.push(h('svg', { class: 'ev-floor-svg', viewBox: '0 0 ' + p.width + ' ' + p.height, preserveAspectRatio: 'xMidYMid meet', role: 'img' }, shapes));
    var n = (p.people || []).length;
    children.push(
      h(
        'div',
        { class: 'ev-floor-note' },
        p.calibrated === false
          ? 'no calibrated camera: set the reid node’s Floor calibration'
          : n + ' on the floor · ' + p.cameras + ' calibrated camera' + (p.cameras === 1 ? '' : 's'),
      ),
    );
    return h('div', { class: 'ev-floor' }, children);
  },
});

/* global visionWidget */
// vision-ui-timeline: one bar per station, its segments ({state, from, to}) as widths of the window,
// oldest on the left; the node sends {now, windowMs, stations: {name: [segments]}}.
var COLOURS = { working: '#2e9e44', idle: '#f2a900', absent: '#9e9e9e' };

function minutes(ms) {
  var m = Math.round(ms / 60000);
  return m >= 60 && m % 60 === 0 ? m / 60 + ' h' : m + ' min';
}

module.exports = visionWidget({
  name: 'VisionUiTimeline',
  css: [
    '.ev-timeline{width:100%;font-size:12px}',
    '.ev-timeline-label{font-size:13px;opacity:.8;margin-bottom:4px}',
    '.ev-timeline-row{margin:6px 0}',
    '.ev-timeline-name{display:flex;justify-content:space-between;gap:8px}',
    '.ev-timeline-bar{position:relative;height:18px;background:#eceff1;border-radius:3px;overflow:hidden}',
    '.ev-timeline-seg{position:absolute;top:0;bottom:0}',
    '.ev-timeline-legend{opacity:.7;margin-top:4px;display:flex;flex-wrap:wrap;gap:10px}',
    '.ev-timeline-swatch{display:inline-block;width:10px;height:10px;margin-right:3px;vertical-align:-1px}',
    '.ev-timeline-wait{opacity:.6;padding:8px 0}',
  ].join('\n'),
  render: function (h, p) {
    var children = [];
    if (this.props.label) children.push(h('div', { class: 'ev-timeline-label' }, this.props.label));
    var names = p && p.stations ? Object.keys(p.stations) : [];
    if (!names.length) children.push(h('div', { class: 'ev-timeline-wait' }, 'waiting for the stations’ first state…'));
    var start = p ? p.now - p.windowMs : 0;
    names.forEach(function (name) {
      var segs = p.stations[name] || [];
      var last = segs[segs.length - 1];
      children.push(
        h('div', { class: 'ev-timeline-row', 'data-station': name, 'data-state': last ? last.state : '' }, [
          h('div', { class: 'ev-timeline-name' }, [h('span', name), h('span', last ? last.state : '')]),
          h(
            'div',
            { class: 'ev-timeline-bar' },
            segs.map(function (s) {
              var left = ((s.from - start) / p.windowMs) * 100;
              var width = ((s.to - s.from) / p.windowMs) * 100;
              return h('div', {
                class: 'ev-timeline-seg',
                title: s.state,
                style: { left: Math.max(0, left) + '%', width: Math.max(0.3, width) + '%', background: COLOURS[s.state] || '#607d8b' },
              });
            }),
          ),
        ]),
      );
    });
    if (p) {
      children.push(
        h('div', { class: 'ev-timeline-legend' }, [
          h('span', 'last ' + minutes(p.windowMs)),
          h('span', [h('span', { class: 'ev-timeline-swatch', style: { background: COLOURS.working } }), 'working']),
          h('span', [h('span', { class: 'ev-timeline-swatch', style: { background: COLOURS.idle } }), 'idle']),
          h('span', [h('span', { class: 'ev-timeline-swatch', style: { background: COLOURS.absent } }), 'absent']),
        ]),
      );
    }
    return h('div', { class: 'ev-timeline' }, children);
  },
});

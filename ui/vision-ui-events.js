/* global visionWidget */
// vision-ui-events: the node's rows ({rows: [{tMs, event, camera, where, detail, track}]}), newest
// first, in a table that scrolls sideways rather than overflow a narrow screen.
// A live camera's frames carry wall-clock time (shown HH:mm:ss); a file's, the time into the recording (m:ss).
function time(tMs) {
  if (typeof tMs !== 'number') return '';
  if (tMs < 1e10) {
    var s = Math.floor(tMs / 1000);
    return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
  }
  // 24-hour HH:mm:ss in the browser's time zone, as the Dashboard 1 demo's event times and charts.
  var d = new Date(tMs);
  var two = function (n) {
    return String(n).padStart(2, '0');
  };
  return two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());
}

module.exports = visionWidget({
  name: 'VisionUiEvents',
  css: [
    '.ev-events{width:100%;overflow-x:auto}',
    '.ev-events-label{font-size:13px;opacity:.8;margin-bottom:4px}',
    '.ev-events table{width:100%;border-collapse:collapse;font-size:12px}',
    '.ev-events th{text-align:left;font-weight:500;opacity:.7;border-bottom:1px solid rgba(0,0,0,.15);padding:2px 6px 2px 0}',
    '.ev-events td{padding:2px 6px 2px 0;border-bottom:1px solid rgba(0,0,0,.06);white-space:nowrap}',
    '.ev-events-wait{font-size:13px;opacity:.6;padding:8px 0}',
  ].join('\n'),
  render: function (h, p) {
    var rows = (p && p.rows) || [];
    var children = [];
    if (this.props.label) children.push(h('div', { class: 'ev-events-label' }, this.props.label));
    if (!rows.length) children.push(h('div', { class: 'ev-events-wait' }, 'no events yet'));
    else {
      children.push(
        h('table', [
          h('thead', [
            h(
              'tr',
              ['time', 'event', 'where', 'detail', 'track'].map((c) => h('th', c)),
            ),
          ]),
          h(
            'tbody',
            rows.map(function (r, i) {
              return h('tr', { key: r.tMs + ':' + i, class: 'ev-event', 'data-event': r.event }, [
                h('td', time(r.tMs)),
                h('td', r.event),
                h('td', r.where),
                h('td', r.detail),
                h('td', r.track),
              ]);
            }),
          ),
        ]),
      );
    }
    return h('div', { class: 'ev-events' }, children);
  },
});

/* global visionWidget */
// vision-ui-tiles: the tiles the node sends ({tiles: [{key, label, value, sub, tone}]}), in a grid
// that wraps to the widget's width.
module.exports = visionWidget({
  name: 'VisionUiTiles',
  css: [
    '.ev-tiles{width:100%}',
    '.ev-tiles-label{font-size:13px;opacity:.8;margin-bottom:4px}',
    '.ev-tiles-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(112px,1fr));gap:8px}',
    '.ev-tile{border:1px solid rgba(0,0,0,.12);border-left:6px solid #90a4ae;border-radius:4px;padding:6px 8px;min-width:0}',
    '.ev-tile[data-tone=working]{border-left-color:#2e9e44}',
    '.ev-tile[data-tone=idle]{border-left-color:#f2a900}',
    '.ev-tile[data-tone=absent]{border-left-color:#9e9e9e}',
    '.ev-tile-label{font-size:12px;opacity:.75;overflow-wrap:anywhere;line-height:1.25}',
    '.ev-tile-value{font-size:24px;font-weight:500;line-height:1.2;overflow-wrap:anywhere}',
    '.ev-tile-value[data-text]{font-size:17px;line-height:1.6}',
    '.ev-tile-sub{font-size:11px;opacity:.6}',
    '.ev-tiles-wait{font-size:13px;opacity:.6;padding:8px 0}',
  ].join('\n'),
  render: function (h, p) {
    var tiles = (p && p.tiles) || [];
    var children = [];
    if (this.props.label) children.push(h('div', { class: 'ev-tiles-label' }, this.props.label));
    if (!tiles.length) children.push(h('div', { class: 'ev-tiles-wait' }, 'waiting for the first frame…'));
    else {
      children.push(
        h(
          'div',
          { class: 'ev-tiles-grid' },
          tiles.map(function (t) {
            return h('div', { class: 'ev-tile', key: t.key, 'data-key': t.key, 'data-tone': t.tone, title: t.label + ' · ' + t.sub }, [
              h('div', { class: 'ev-tile-label' }, t.label),
              h('div', { class: 'ev-tile-value', 'data-text': /^[-\d., %]+$/.test(t.value) ? undefined : '' }, t.value),
              h('div', { class: 'ev-tile-sub' }, t.sub),
            ]);
          }),
        ),
      );
    }
    return h('div', { class: 'ev-tiles' }, children);
  },
});

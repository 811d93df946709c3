/* global visionWidget */
// vision-ui-board: the drawing board of a vision-line-count / vision-productivity-state node. The node
// sends {type, node, adminRoot, pictureEveryS}; the widget loads the board's browser code from the
// admin API (<adminRoot>vision-board/widget.js: the editor's board and the widget around it, plain
// browser code shared with Dashboard 1) once per page and mounts it into its element. Sign-in,
// picture, apply and undo are the board's own (docs/dashboard.md, "Lines and zones from the dashboard").
var loading = null;

function loadBoardCode(adminRoot) {
  if (typeof window !== 'undefined' && window.EdgeVisionBoardWidget) return Promise.resolve();
  if (!loading) {
    loading = new Promise(function (resolve, reject) {
      var s = document.createElement('script');
      s.src = adminRoot.replace(/\/?$/, '/') + 'vision-board/widget.js';
      s.onload = resolve;
      s.onerror = function () {
        loading = null;
        reject(new Error('cannot load ' + s.src));
      };
      document.head.appendChild(s);
    });
  }
  return loading;
}

module.exports = visionWidget({
  name: 'VisionUiBoard',
  css: '.ev-board-d2{width:100%}.ev-board-d2-wait{font-size:13px;opacity:.6;padding:8px 0}',
  data: function () {
    return { mountedFor: '', problem: '' };
  },
  watch: {
    msg: function () {
      this.mountBoard();
    },
  },
  methods: {
    mountBoard: function () {
      var self = this;
      var p = this.msg && this.msg.payload;
      var el = this.$refs.board;
      if (!p || !p.node || !el) return;
      var key = p.type + '/' + p.node;
      if (key === this.mountedFor) return;
      this.mountedFor = key;
      loadBoardCode(p.adminRoot || '/').then(
        function () {
          if (self._evBoard) self._evBoard.destroy();
          self._evBoard = window.EdgeVisionBoardWidget.mount(el, {
            type: p.type,
            node: p.node,
            adminRoot: p.adminRoot || '/',
            pictureEveryS: p.pictureEveryS || 0,
          });
        },
        function (e) {
          self.problem = e.message;
        },
      );
    },
  },
  mounted: function () {
    this.mountBoard();
  },
  unmounted: function () {
    if (this._evBoard) this._evBoard.destroy();
  },
  render: function (h, p) {
    var children = [];
    if (this.props.label) children.push(h('div', { key: 'label', class: 'ev-tiles-label' }, this.props.label));
    if (!p || this.problem) children.push(h('div', { key: 'wait', class: 'ev-board-d2-wait' }, this.problem || 'waiting for the node…'));
    // The board owns this element's content (it is not Vue's): Vue renders it once, empty.
    children.push(h('div', { key: 'board', ref: 'board', class: 'ev-board-d2-board' }));
    return h('div', { class: 'ev-board-d2' }, children);
  },
});

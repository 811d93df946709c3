// Shared by every Edge Vision Dashboard 2.0 widget (scripts/build-widgets.js puts it into each bundle).
// visionWidget(spec) makes a Vue component that the dashboard renders with {id, props, state}: it
// asks Node-RED for the widget's latest message when it mounts ('widget-load') and takes each new one
// ('msg-input:<id>') as it comes, so the widget updates live without a reload. spec.render(h, payload)
// draws it; spec.css is added to the page once per widget type.

function visionWidget(spec) {
  var css = spec.css;
  return {
    name: spec.name,
    inject: ['$socket'],
    props: {
      id: { type: String, required: true },
      props: { type: Object, default: () => ({}) },
      state: { type: Object, default: () => ({}) },
    },
    data: function () {
      var own = spec.data ? spec.data.call(this) : {};
      return Object.assign({ msg: null }, own);
    },
    computed: spec.computed || {},
    watch: spec.watch || {},
    methods: spec.methods || {},
    mounted: function () {
      var self = this;
      if (css && typeof document !== 'undefined' && !document.getElementById('ev-css-' + spec.name)) {
        var style = document.createElement('style');
        style.id = 'ev-css-' + spec.name;
        style.textContent = css;
        document.head.appendChild(style);
      }
      this._evOnLoad = function (msg) {
        if (msg) self.msg = msg;
      };
      this._evOnInput = function (msg) {
        self.msg = msg;
      };
      this.$socket.on('widget-load:' + this.id, this._evOnLoad);
      this.$socket.on('msg-input:' + this.id, this._evOnInput);
      this.$socket.emit('widget-load', this.id);
      if (spec.mounted) spec.mounted.call(this);
    },
    unmounted: function () {
      if (spec.unmounted) spec.unmounted.call(this);
      if (this.$socket) {
        this.$socket.off('widget-load:' + this.id, this._evOnLoad);
        this.$socket.off('msg-input:' + this.id, this._evOnInput);
      }
    },
    render: function () {
      return spec.render.call(this, Vue.h, this.msg ? this.msg.payload : null);
    },
  };
}

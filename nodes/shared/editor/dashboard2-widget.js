/*
 * Editor code shared by the Dashboard 2.0 widget dialogs (vision-ui-*): the group's size button (the
 * dashboard's own elementSizer when Dashboard 2.0 is installed, plain number fields otherwise) and a
 * list of the flow's vision nodes of the types a widget can show. Written into each dialog's HTML by
 * scripts/copy-node-assets.js.
 */
/* global $, RED */
(function () {
  'use strict';
  window.EdgeVisionWidget = {
    /** The width × height button of the dashboard, or number fields without Dashboard 2.0. */
    sizer: function () {
      if ($.fn.elementSizer) {
        $('#node-input-size').elementSizer({ width: '#node-input-width', height: '#node-input-height', group: '#node-input-group' });
      } else {
        $('#node-input-size').hide();
        $('#node-input-width, #node-input-height').attr('type', 'number').css('width', '70px');
      }
    },
    /**
     * Fills <select id="node-input-FIELD"> (single or multiple) with the flows' vision nodes of `types`,
     * labelled by name and tab; the current value (an id, or ids) kept, marked missing when that node is gone.
     */
    nodePicker: function (field, types, current) {
      var sel = $('#node-input-' + field);
      var multiple = sel.prop('multiple');
      var wanted = Array.isArray(current) ? current : current ? [current] : [];
      sel.empty();
      var found = {};
      RED.nodes.eachNode(function (n) {
        if (types.indexOf(n.type) < 0) return;
        var tab = RED.nodes.workspace(n.z);
        var label = (n.name || n.type) + ' (' + n.type.replace(/^vision-/, '') + (tab ? ', ' + tab.label : '') + ')';
        $('<option>').val(n.id).text(label).appendTo(sel);
        found[n.id] = true;
      });
      wanted.forEach(function (id) {
        if (!found[id])
          $('<option>')
            .val(id)
            .text(id + ' (missing)')
            .appendTo(sel);
      });
      if (!sel.children().length)
        $('<option>')
          .val('')
          .text('no ' + types.join(' / ') + ' node in the flows')
          .appendTo(sel);
      sel.val(multiple ? wanted : wanted[0] || sel.children().first().val());
    },
  };
})();

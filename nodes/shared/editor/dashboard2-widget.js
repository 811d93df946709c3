/*
 * Editor code shared by the Dashboard 2.0 widget dialogs (vision-ui-*): the group's size button (the
 * dashboard's own elementSizer when Dashboard 2.0 is installed, plain number fields otherwise) and a
 * list of the flow's vision nodes of the types a widget can show, found again after an import that
 * gave them new ids. Written into each dialog's HTML by scripts/copy-node-assets.js (so it runs once
 * per widget type: what must exist once lives in window.EdgeVisionWidgetRelink).
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
     * The value `field` (an id, or ids) should have after an import that gave the vision nodes new ids
     * (Import ▸ copy, an example imported twice). Each id that names no node is replaced by a node of
     * `pool` (the nodes imported with the widget; without it, those on the widget's flow, or else all)
     * of the type kept in `<field>Type` (keepTypes), or, without that, by the nodes of `types` there
     * that the widget is not set to yet, when there are as many as are missing. Undefined when nothing
     * is missing or the choice is not clear. The runtime does the same (relinkSources in
     * nodes/shared/dashboard2.ts).
     */
    relinkedValue: function (node, field, types, pool) {
      var v = node[field];
      var ids = Array.isArray(v) ? v.slice() : v ? [v] : [];
      var hint = node[field + 'Type'];
      var hints = Array.isArray(hint) ? hint : hint ? [hint] : [];
      var missing = [];
      ids.forEach(function (id, i) {
        if (!RED.nodes.node(id)) missing.push(i);
      });
      if (!missing.length) return undefined;
      var fits = function (n) {
        return types.indexOf(n.type) >= 0 && ids.indexOf(n.id) < 0;
      };
      var here = [];
      if (pool) here = pool.filter(fits);
      else {
        var all = [];
        RED.nodes.eachNode(function (n) {
          if (fits(n)) all.push(n);
        });
        here = all.filter(function (n) {
          return n.z === node.z;
        });
        if (!here.length) here = all;
      }
      var byHint = hints.length === ids.length;
      if (!byHint && here.length !== missing.length) return undefined;
      for (var k = 0; k < missing.length; k++) {
        var i = missing[k];
        var pick = here.filter(function (n) {
          return !byHint || n.type === hints[i];
        });
        if (byHint && pick.length !== 1) return undefined;
        ids[i] = pick[0].id;
        here.splice(here.indexOf(pick[0]), 1);
      }
      return Array.isArray(v) ? ids : ids[0];
    },
    /** oneditsave: keeps the type of each node picked in `field` (in `<field>Type`), for relinkedValue. */
    keepTypes: function (node, field) {
      var v = $('#node-input-' + field).val();
      var types = (Array.isArray(v) ? v : v ? [v] : []).map(function (id) {
        var n = RED.nodes.node(id);
        return n ? n.type : '';
      });
      node[field + 'Type'] = Array.isArray(v) ? types : types[0] || '';
    },
    /** Sets `field` again after an import with new ids (relinkedValue); marks the node changed. */
    relink: function (node, field, types, pool) {
      var v = window.EdgeVisionWidget.relinkedValue(node, field, types, pool);
      if (v === undefined) return false;
      node[field] = v;
      node.changed = true;
      node.dirty = true;
      return true;
    },
    /**
     * A widget type whose `field` names vision nodes of `types`: a widget of it that an import adds
     * is set again once the whole import is in (its nodes may come after it), for Import ▸ copy and
     * examples imported twice. Widgets of the flows loaded when the editor opens are left as they are.
     */
    relinkOnImport: function (type, field, types) {
      var hook = window.EdgeVisionWidgetRelink;
      if (!hook) {
        hook = window.EdgeVisionWidgetRelink = { specs: {}, pending: [], timer: null };
        // Every node an import adds, so that a widget is set to the nodes imported with it.
        RED.events.on('nodes:add', function (n) {
          if (!n) return;
          hook.pending.push(n);
          if (hook.timer) return;
          hook.timer = setTimeout(function () {
            hook.timer = null;
            var added = hook.pending.splice(0);
            var changed = false;
            added.forEach(function (w) {
              var spec = hook.specs[w.type];
              // An import marks what it adds as changed; the flows loaded when the editor opens are not.
              if (spec && w.changed && RED.nodes.node(w.id) && window.EdgeVisionWidget.relink(w, spec.field, spec.types, added)) changed = true;
            });
            if (changed) RED.view.redraw(true);
          }, 0);
        });
      }
      hook.specs[type] = { field: field, types: types };
    },
    /**
     * Fills <select id="node-input-FIELD"> (single or multiple) with the flows' vision nodes of `types`,
     * labelled by name and tab; the node's value (an id, or ids) kept, or found again as relink does,
     * and marked missing when that node is gone.
     */
    nodePicker: function (field, types, node) {
      var relinked = window.EdgeVisionWidget.relinkedValue(node, field, types);
      var current = relinked !== undefined ? relinked : node[field];
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

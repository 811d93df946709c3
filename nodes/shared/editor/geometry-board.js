/*
 * The drawing board of the vision node editors: lines and zones (vision-line-count), workstation zones
 * (vision-productivity-state), drawn and edited with mouse, pen or touch over the camera's newest
 * frame. Browser code: the build (scripts/copy-node-assets.js) writes it into each dialog's HTML that
 * asks for it, so no node depends on an extra request. The JSON in the dialog's code editor stays
 * the truth: the board draws it and writes it back.
 */
/* global $, RED */
(function () {
  'use strict';

  /** [x, y] with both in 0..1. */
  function isUnitPoint(p) {
    return (
      Array.isArray(p) &&
      p.length === 2 &&
      p.every(function (c) {
        return typeof c === 'number' && c >= 0 && c <= 1;
      })
    );
  }

  /**
   * The runtime's checks of zones (named, unique names, polygons of 3 or more points in 0..1), for the
   * dialogs' validators: null when they pass, else the reason.
   */
  function checkZones(zones) {
    var names = {};
    for (var j = 0; j < zones.length; j++) {
      var z = zones[j];
      if (!z || typeof z.name !== 'string' || !z.name) return 'zones[' + j + '] needs a name';
      if (names[z.name]) return 'zone "' + z.name + '" is used twice';
      names[z.name] = true;
      if (!Array.isArray(z.polygon) || z.polygon.length < 3 || !z.polygon.every(isUnitPoint))
        return 'zone "' + z.name + '": polygon needs 3 or more [x, y] points in 0..1';
    }
    return null;
  }

  /** One item per row: readable in the editor, and still plain JSON. */
  function rows(a, indent) {
    return (a || [])
      .map(function (o) {
        return indent + JSON.stringify(o);
      })
      .join(',\n');
  }

  /** Geometry as the editors show it: `{"lines": [...], "zones": [...]}`, one line or zone per row. */
  function formatGeometry(g) {
    return '{\n  "lines": [\n' + rows(g.lines, '    ') + '\n  ],\n  "zones": [\n' + rows(g.zones, '    ') + '\n  ]\n}';
  }

  /**
   * The drawing board: the JSON in the text editor is the truth; the board draws it over the
   * camera's newest picture and edits it by mouse (draw a line, click a zone's corners, drag a
   * point or a whole shape, flip a line, rename, delete), writing the JSON back. Points are kept
   * normalised 0..1, rounded to 0.001, so the picture's size never matters.
   *
   * opts: canvas; parse(text) → {lines, zones} or null when the text is not valid; format(geom) →
   * text; setText(text); text(key) → a label; zoneName (default "zone"); onMode(mode); onSelect(item, kind);
   * readOnly() → true while the board may only be looked at (a dashboard user without the role).
   */
  function GeometryBoard(opts) {
    var canvas = opts.canvas;
    var c = canvas.getContext('2d');
    var self = this;
    var geom = null; // parsed geometry, or null while the JSON does not parse
    var sel = null; // { kind: 'lines' | 'zones', i }
    var mode = 'select'; // 'select' | 'line' | 'zone'
    var draft = null; // line: { start, end }; zone: { points: [], hover }
    var drag = null; // { kind, i, what: 'start' | 'end' | vertex index | 'whole', from }
    var picture = null; // an Image of the camera, or null
    var reach = 7; // px: how near a point must be pressed to grab it (a finger gets more)
    var readOnly = function () {
      return !!(opts.readOnly && opts.readOnly());
    };

    var W = function () {
      return canvas.width;
    };
    var H = function () {
      return canvas.height;
    };
    var r3 = function (v) {
      return Math.round(Math.min(1, Math.max(0, v)) * 1000) / 1000;
    };
    function at(e) {
      var b = canvas.getBoundingClientRect();
      return [(e.clientX - b.left) / b.width, (e.clientY - b.top) / b.height];
    }
    function px(p) {
      return [p[0] * W(), p[1] * H()];
    }
    function dist(p, q) {
      var a = px(p),
        b = px(q);
      return Math.hypot(a[0] - b[0], a[1] - b[1]);
    }
    function segDist(p, a, b) {
      var P = px(p),
        A = px(a),
        B = px(b),
        dx = B[0] - A[0],
        dy = B[1] - A[1],
        l2 = dx * dx + dy * dy;
      var t = l2 ? Math.max(0, Math.min(1, ((P[0] - A[0]) * dx + (P[1] - A[1]) * dy) / l2)) : 0;
      return Math.hypot(P[0] - A[0] - t * dx, P[1] - A[1] - t * dy);
    }
    function inside(p, poly) {
      var hit = false;
      for (var i = 0, j = poly.length - 1; i < poly.length; j = i++) {
        var a = poly[i],
          b = poly[j];
        if (a[1] > p[1] !== b[1] > p[1] && p[0] < ((b[0] - a[0]) * (p[1] - a[1])) / (b[1] - a[1]) + a[0]) hit = !hit;
      }
      return hit;
    }
    function item() {
      return sel && geom && geom[sel.kind] ? geom[sel.kind][sel.i] : null;
    }
    function uniqueName(kind, base) {
      var used = {};
      geom[kind].forEach(function (o) {
        used[o.name] = true;
      });
      for (var n = geom[kind].length + 1; ; n++) if (!used[base + '-' + n]) return base + '-' + n;
    }
    function commit() {
      opts.setText(opts.format(geom));
      changed();
    }
    function changed() {
      draw();
      if (opts.onSelect) opts.onSelect(item(), sel ? sel.kind : null);
    }

    /** Points of the selected item under p (its own first), then any item under p. */
    function hitTest(p) {
      var kinds = ['lines', 'zones'];
      var order = [];
      if (sel) order.push(sel);
      kinds.forEach(function (k) {
        geom[k].forEach(function (_, i) {
          if (!sel || sel.kind !== k || sel.i !== i) order.push({ kind: k, i: i });
        });
      });
      for (var n = 0; n < order.length; n++) {
        var o = geom[order[n].kind][order[n].i];
        if (order[n].kind === 'lines') {
          if (dist(p, o.start) <= reach) return { kind: 'lines', i: order[n].i, what: 'start' };
          if (dist(p, o.end) <= reach) return { kind: 'lines', i: order[n].i, what: 'end' };
        } else {
          for (var v = 0; v < o.polygon.length; v++) if (dist(p, o.polygon[v]) <= reach) return { kind: 'zones', i: order[n].i, what: v };
        }
      }
      for (var m = 0; m < order.length; m++) {
        var q = geom[order[m].kind][order[m].i];
        if (order[m].kind === 'lines' ? segDist(p, q.start, q.end) <= reach : inside(p, q.polygon))
          return { kind: order[m].kind, i: order[m].i, what: 'whole' };
      }
      return null;
    }

    function finishZone() {
      // A double-click also pressed twice on its spot: keep one corner of each such pair.
      if (draft)
        draft.points = draft.points.filter(function (p, i, a) {
          return i === 0 || dist(p, a[i - 1]) > 3;
        });
      if (!draft || draft.points.length < 3) return;
      geom.zones.push({ name: uniqueName('zones', opts.zoneName || 'zone'), polygon: draft.points });
      sel = { kind: 'zones', i: geom.zones.length - 1 };
      draft = null;
      self.setMode('select');
      commit();
    }

    // Pointer events: mouse, pen and touch (a tablet on the shop floor) alike. The capture keeps a
    // drag going when the pointer leaves the board, and ends it with the board's own pointerup.
    canvas.addEventListener('pointerdown', function (e) {
      if (!geom || e.button !== 0 || readOnly()) return;
      canvas.focus();
      canvas.setPointerCapture(e.pointerId);
      reach = e.pointerType === 'touch' ? 18 : 7;
      var p = at(e);
      if (mode === 'line') {
        draft = { start: p, end: p };
      } else if (mode === 'zone') {
        if (!draft) draft = { points: [] };
        if (draft.points.length >= 3 && dist(p, draft.points[0]) <= reach) {
          finishZone();
          return;
        }
        draft.points.push([r3(p[0]), r3(p[1])]);
      } else {
        var h = hitTest(p);
        sel = h ? { kind: h.kind, i: h.i } : null;
        drag = h ? { kind: h.kind, i: h.i, what: h.what, from: p } : null;
        changed();
        return;
      }
      draw();
    });
    canvas.addEventListener('pointermove', function (e) {
      if (!geom) return;
      var p = at(e);
      if (mode === 'line' && draft) {
        draft.end = p;
        draw();
        return;
      }
      if (mode === 'zone' && draft) {
        draft.hover = p;
        draw();
        return;
      }
      if (!drag) {
        canvas.style.cursor = hitTest(p) ? 'move' : 'default';
        return;
      }
      var o = geom[drag.kind][drag.i];
      if (drag.what === 'whole') {
        var pts = drag.kind === 'lines' ? [o.start, o.end] : o.polygon;
        // Move by the pointer's step, but never push a point off the picture.
        var dx = p[0] - drag.from[0],
          dy = p[1] - drag.from[1];
        pts.forEach(function (q) {
          dx = Math.max(-q[0], Math.min(1 - q[0], dx));
          dy = Math.max(-q[1], Math.min(1 - q[1], dy));
        });
        pts.forEach(function (q) {
          q[0] += dx;
          q[1] += dy;
        });
        drag.from = [drag.from[0] + dx, drag.from[1] + dy];
      } else if (drag.kind === 'lines') {
        o[drag.what] = [r3(p[0]), r3(p[1])];
      } else {
        o.polygon[drag.what] = [r3(p[0]), r3(p[1])];
      }
      drag.moved = true;
      draw();
    });
    canvas.addEventListener('pointerup', function (e) {
      if (!geom) return;
      if (mode === 'line' && draft) {
        var p = at(e);
        draft.end = [r3(p[0]), r3(p[1])];
        if (dist(draft.start, draft.end) >= 10) {
          geom.lines.push({ name: uniqueName('lines', 'line'), start: [r3(draft.start[0]), r3(draft.start[1])], end: draft.end });
          sel = { kind: 'lines', i: geom.lines.length - 1 };
          self.setMode('select');
          draft = null;
          commit();
          return;
        }
        draft = null;
        draw();
        return;
      }
      if (drag) {
        var o = geom[drag.kind][drag.i];
        (drag.kind === 'lines' ? [o.start, o.end] : o.polygon).forEach(function (q) {
          q[0] = r3(q[0]);
          q[1] = r3(q[1]);
        });
        var moved = drag.moved;
        drag = null;
        if (moved) commit();
      }
    });
    canvas.addEventListener('dblclick', function () {
      if (mode === 'zone') finishZone();
    });
    // Keys the board uses stop here: Node-RED's own shortcuts (Delete, Esc) must not act on them too.
    canvas.addEventListener('keydown', function (e) {
      if (readOnly()) return;
      var used = true;
      if (e.key === 'Escape' && (draft || mode !== 'select')) {
        draft = null;
        self.setMode('select');
      } else if (e.key === 'Enter' && mode === 'zone') finishZone();
      else if ((e.key === 'Delete' || e.key === 'Backspace') && mode === 'select' && item()) self.remove();
      else used = false;
      if (used) {
        e.preventDefault();
        e.stopPropagation();
      }
    });

    function drawLine(l, selected) {
      var A = px(l.start),
        B = px(l.end);
      c.strokeStyle = selected ? '#ff8c00' : '#c0392b';
      c.fillStyle = c.strokeStyle;
      c.lineWidth = selected ? 3 : 2;
      c.beginPath();
      c.moveTo(A[0], A[1]);
      c.lineTo(B[0], B[1]);
      c.stroke();
      c.lineWidth = 1.5;
      // An arrow towards the "in" side, where cross(end − start, p − start) > 0.
      var mx = (A[0] + B[0]) / 2,
        my = (A[1] + B[1]) / 2,
        dx = B[0] - A[0],
        dy = B[1] - A[1],
        len = Math.hypot(dx, dy) || 1;
      var ux = -dy / len,
        uy = dx / len,
        tx = mx + ux * 18,
        ty = my + uy * 18;
      c.beginPath();
      c.moveTo(mx, my);
      c.lineTo(tx, ty);
      c.stroke();
      c.beginPath();
      c.moveTo(tx + ux * 6, ty + uy * 6);
      c.lineTo(tx - uy * 5, ty + ux * 5);
      c.lineTo(tx + uy * 5, ty - ux * 5);
      c.closePath();
      c.fill();
      label((l.name || '?') + ' · in', A[0] + dx * 0.15 + ux * 12, A[1] + dy * 0.15 + uy * 12 + 4);
      if (selected) [A, B].forEach(handle);
    }
    function drawZone(z, selected) {
      if (!z.polygon.length) return;
      c.beginPath();
      z.polygon.forEach(function (p, i) {
        var P = px(p);
        if (i) c.lineTo(P[0], P[1]);
        else c.moveTo(P[0], P[1]);
      });
      c.closePath();
      c.fillStyle = selected ? 'rgba(255,140,0,0.25)' : 'rgba(70,130,180,0.25)';
      c.fill();
      c.strokeStyle = selected ? '#ff8c00' : '#4682b4';
      c.lineWidth = selected ? 3 : 1.5;
      c.stroke();
      var P0 = px(z.polygon[0]);
      c.fillStyle = c.strokeStyle;
      label(z.name || '?', P0[0] + 4, P0[1] + 14);
      if (selected) z.polygon.map(px).forEach(handle);
    }
    function label(text, x, y) {
      c.font = '12px sans-serif';
      var w = c.measureText(text).width;
      var fill = c.fillStyle;
      c.fillStyle = 'rgba(255,255,255,0.8)';
      c.fillRect(x - 2, y - 11, w + 4, 14);
      c.fillStyle = fill;
      c.fillText(text, x, y);
    }
    function handle(P) {
      c.fillStyle = '#fff';
      c.strokeStyle = '#ff8c00';
      c.lineWidth = 2;
      c.fillRect(P[0] - 4, P[1] - 4, 8, 8);
      c.strokeRect(P[0] - 4, P[1] - 4, 8, 8);
    }
    function draw() {
      c.clearRect(0, 0, W(), H());
      if (picture) c.drawImage(picture, 0, 0, W(), H());
      else {
        c.fillStyle = '#f3f3f3';
        c.fillRect(0, 0, W(), H());
      }
      if (!geom) {
        c.fillStyle = '#a00';
        c.font = '13px sans-serif';
        c.fillText(opts.text('invalid'), 10, 20);
        return;
      }
      geom.zones.forEach(function (z, i) {
        if (z && Array.isArray(z.polygon)) drawZone(z, sel && sel.kind === 'zones' && sel.i === i);
      });
      geom.lines.forEach(function (l, i) {
        if (l && Array.isArray(l.start) && Array.isArray(l.end)) drawLine(l, sel && sel.kind === 'lines' && sel.i === i);
      });
      if (draft && mode === 'line') drawLine({ name: '', start: draft.start, end: draft.end }, true);
      if (draft && mode === 'zone') {
        var pts = draft.points.concat(draft.hover ? [draft.hover] : []);
        c.strokeStyle = '#ff8c00';
        c.lineWidth = 2;
        c.setLineDash([5, 4]);
        c.beginPath();
        pts.forEach(function (p, i) {
          var P = px(p);
          if (i) c.lineTo(P[0], P[1]);
          else c.moveTo(P[0], P[1]);
        });
        c.stroke();
        c.setLineDash([]);
        draft.points.map(px).forEach(handle);
      }
    }

    /** The text editor changed (typed, or set by us): parse it and redraw; a bad JSON freezes the board. Every parsed geometry has both arrays. */
    this.load = function (text) {
      var g = null;
      try {
        g = opts.parse(text);
      } catch (e) {
        g = null;
      }
      geom = g || null;
      if (geom) {
        geom.lines = geom.lines || [];
        geom.zones = geom.zones || [];
      }
      if (!item()) sel = null;
      changed();
    };
    this.setMode = function (m) {
      mode = m;
      draft = null;
      if (m !== 'select') sel = null;
      canvas.style.cursor = m === 'select' ? 'default' : 'crosshair';
      if (opts.onMode) opts.onMode(m);
      changed();
    };
    this.remove = function () {
      if (!item() || readOnly()) return;
      geom[sel.kind].splice(sel.i, 1);
      sel = null;
      commit();
    };
    this.flip = function () {
      var o = item();
      if (!o || sel.kind !== 'lines' || readOnly()) return;
      var t = o.start;
      o.start = o.end;
      o.end = t;
      commit();
    };
    /** Renames the selected item; false when the name is empty or taken by another of its kind. */
    this.rename = function (name) {
      var o = item();
      if (!o) return true;
      if (readOnly()) return false;
      name = String(name).trim();
      if (
        !name ||
        geom[sel.kind].some(function (x, i) {
          return i !== sel.i && x.name === name;
        })
      )
        return false;
      if (o.name !== name) {
        o.name = name;
        commit();
      }
      return true;
    };
    /** A picture of the camera under the drawing: the canvas takes its aspect ratio. */
    this.setPicture = function (img) {
      picture = img;
      canvas.height = Math.round(canvas.width * (img.naturalHeight / img.naturalWidth));
      draw();
    };
  }

  var STRINGS = {
    select: 'Select',
    line: 'Line',
    zone: 'Zone',
    load: 'Camera picture',
    loading: 'loading…',
    picture: 'the camera’s newest frame (__size__)',
    noPicture: 'no picture: deploy the flow and let frames reach this node',
    name: 'Name',
    flip: 'Flip in/out',
    delete: 'Delete',
    invalid: 'Fix the JSON above to draw again',
    'hint-select': 'Click a line or zone to select it; drag its points or the whole shape to move it. Delete removes it.',
    'hint-line': 'Press where the line starts and drag to where it ends. The arrow shows the "in" side: Flip swaps it.',
    'hint-zone': 'Click each corner; click the first corner, double-click or press Enter to close. Esc cancels.',
  };

  /**
   * Builds the board with its toolbar into `#<prefix>-board-area` (its ids start with `opts.prefix`)
   * and ties it to the code editor `editor` (RED.editor.createEditor). snapshotUrl: the admin route of
   * the node's newest frame. Returns the board.
   */
  function mount(opts, editor, snapshotUrl) {
    var p = opts.prefix;
    // opts.t: the node's own catalogue (its `board` keys, e.g. German); English from STRINGS otherwise.
    var t = function (key) {
      return (opts.t && opts.t(key)) || STRINGS[key] || key;
    };
    var esc = function (s) {
      return $('<div>').text(s).html();
    };
    var tool = function (mode, icon) {
      return (
        '<button type="button" class="red-ui-button red-ui-button-small" data-mode="' + mode + '"><i class="fa ' + icon + '"></i> ' + esc(t(mode)) + '</button>'
      );
    };
    var html =
      '<div class="form-row" id="' +
      p +
      '-tools" style="margin-bottom:4px"><span class="button-group">' +
      tool('select', 'fa-mouse-pointer') +
      (opts.lines === false ? '' : tool('line', 'fa-minus')) +
      tool('zone', 'fa-object-ungroup') +
      '</span> <button type="button" class="red-ui-button red-ui-button-small" id="' +
      p +
      '-picture" style="margin-left:8px"><i class="fa fa-camera"></i> ' +
      esc(t('load')) +
      '</button>' +
      ' <span id="' +
      p +
      '-picture-note" style="font-size:0.85em; color:#777; margin-left:4px"></span></div>' +
      '<div class="form-row" style="margin-bottom:4px"><canvas id="' +
      p +
      '-board" tabindex="0" width="480" height="270" style="width:100%; max-width:480px; border:1px solid #ccc; outline:none; touch-action:none"></canvas>' +
      '<div id="' +
      p +
      '-hint" style="font-size:0.85em; color:#777"></div></div>' +
      '<div class="form-row" id="' +
      p +
      '-selected" style="display:none"><label for="' +
      p +
      '-name"><i class="fa fa-i-cursor"></i> ' +
      esc(t('name')) +
      '</label>' +
      '<input type="text" id="' +
      p +
      '-name" style="width:140px"> ' +
      '<button type="button" class="red-ui-button red-ui-button-small" id="' +
      p +
      '-flip"><i class="fa fa-exchange"></i> ' +
      esc(t('flip')) +
      '</button> ' +
      '<button type="button" class="red-ui-button red-ui-button-small" id="' +
      p +
      '-delete"><i class="fa fa-trash"></i> ' +
      esc(t('delete')) +
      '</button></div>';
    $('#' + p + '-board-area').html(html);
    var ed = editor;
    var tools = $('#' + p + '-tools button');
    var name = $('#' + p + '-name');
    var board = new GeometryBoard({
      canvas: document.getElementById(p + '-board'),
      parse: opts.parse,
      format: opts.format,
      zoneName: opts.zoneName,
      setText: function (v) {
        ed.setValue(v, 1);
      },
      text: t,
      onMode: function (m) {
        tools.filter('[data-mode]').removeClass('selected');
        tools.filter('[data-mode="' + m + '"]').addClass('selected');
        $('#' + p + '-hint').text(t('hint-' + m));
      },
      onSelect: function (o, kind) {
        $('#' + p + '-selected').toggle(!!o);
        $('#' + p + '-flip').toggle(kind === 'lines');
        // Set only when another item is selected: a rename typed here commits on every key.
        if (o && name.val() !== o.name) name.val(o.name).removeClass('input-error');
      },
    });
    ed.getSession().on('change', function () {
      board.load(ed.getValue());
    });
    board.load(ed.getValue());
    board.setMode('select');
    tools.filter('[data-mode]').on('click', function (e) {
      e.preventDefault();
      board.setMode($(this).attr('data-mode'));
    });
    $('#' + p + '-flip').on('click', function (e) {
      e.preventDefault();
      board.flip();
    });
    $('#' + p + '-delete').on('click', function (e) {
      e.preventDefault();
      board.remove();
    });
    name.on('input change', function () {
      $(this).toggleClass('input-error', !board.rename($(this).val()));
    });
    $('#' + p + '-picture').on('click', function (e) {
      e.preventDefault();
      var note = $('#' + p + '-picture-note').text(t('loading'));
      // JSON, not an <img src>: the editor's requests carry its login token.
      $.ajax({ url: snapshotUrl, dataType: 'json' })
        .done(function (r) {
          var img = new Image();
          img.onload = function () {
            board.setPicture(img);
            note.text(t('picture').replace('__size__', r.width + '×' + r.height));
          };
          img.onerror = function () {
            note.text(t('noPicture'));
          };
          img.src = r.image;
        })
        .fail(function (xhr) {
          note.text((xhr.responseJSON && xhr.responseJSON.error) || t('noPicture'));
        });
    });
    return board;
  }

  /**
   * A dialog opens: the JSON of the node's `opts.field` (one item per row when it is valid; as it is
   * otherwise, for the validator to explain) in a code editor at `#node-input-<field>-editor`, and
   * the board under it, in `#<prefix>-board-area`, with the picture from `<type>/<id>/snapshot`.
   * Sets node.editor and node.board. opts: field, prefix, parse(text) → {lines, zones} or null,
   * format(geom) → text, zoneName (default "zone"), lines (false: zones only, no Line tool).
   */
  function open(node, opts) {
    var text = $('#node-input-' + opts.field).val();
    var g = null;
    try {
      g = opts.parse(text);
    } catch (e) {
      g = null;
    }
    if (g) text = opts.format(g);
    node.editor = RED.editor.createEditor({ id: 'node-input-' + opts.field + '-editor', mode: 'ace/mode/json', value: text });
    var tr = function (key) {
      var k = node.type + '.board.' + key;
      var s = typeof node._ === 'function' ? node._(k) : k;
      return s && s.indexOf(k) < 0 ? s : null; // i18next answers a missing key with the key
    };
    node.board = mount($.extend({ t: tr }, opts), node.editor, node.type + '/' + encodeURIComponent(node.id) + '/snapshot');
  }

  /** The dialog closes: on Done (`save`) its JSON goes back into the node's field; the code editor is freed. */
  function close(node, opts, save) {
    if (save) $('#node-input-' + opts.field).val(node.editor.getValue());
    node.editor.destroy();
    delete node.editor;
    delete node.board;
  }

  // GeometryBoard alone (no jQuery, no RED) is what the dashboard widget builds on (nodes/shared/dashboard/board-widget.js).
  window.EdgeVisionBoard = {
    GeometryBoard: GeometryBoard,
    isUnitPoint: isUnitPoint,
    checkZones: checkZones,
    formatGeometry: formatGeometry,
    rows: rows,
    open: open,
    close: close,
  };
})();

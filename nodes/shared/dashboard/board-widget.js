/*
 * The drawing board in a dashboard (issue 25): the editor's board (geometry-board.js, loaded before this
 * file by GET <admin root>vision-board/widget.js) over the camera's newest frame, bound to a running
 * vision-line-count or vision-productivity-state node through its board routes (nodes/shared/board.ts).
 * A user whose login has the node type's write permission drags a line's ends, moves a zone's
 * corners, flips, renames, adds and deletes, then applies; anyone else sees the geometry only.
 *
 * Plain browser code (no jQuery, no framework), so that it mounts the same from a Dashboard 1
 * ui_template, a Dashboard 2.0 ui-template or widget, or any page on the same origin:
 *
 *   EdgeVisionBoardWidget.mount(element, { type: 'vision-line-count', node: '<node id>', adminRoot: '/' })
 *
 * Logins are Node-RED's own: the widget uses the editor's token when the editor is signed in on this
 * browser (localStorage "auth-tokens[-<admin path>]", as the editor keeps it), else offers a sign-in form that asks
 * the admin API for one (POST auth/token), exactly as the editor's login does.
 */
/* global window, document, localStorage, fetch, Image, URLSearchParams */
(function () {
  'use strict';

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'style') e.style.cssText = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      e.appendChild(c);
    });
    return e;
  }
  function button(label, cls) {
    return el('button', { type: 'button', class: 'evb-button ' + (cls || ''), text: label });
  }
  /** Where the editor at `admin` keeps its login (red.js: "auth-tokens" + the editor's path, "/" → "-"). */
  function tokenKey(admin) {
    return 'auth-tokens' + admin.slice(0, -1).replace(/\//g, '-');
  }
  function token(admin) {
    try {
      var t = JSON.parse(localStorage.getItem(tokenKey(admin)) || 'null');
      return t && t.access_token ? t.access_token : null;
    } catch (e) {
      return null;
    }
  }
  function time(ms) {
    var d = new Date(ms);
    var p = function (n) {
      return (n < 10 ? '0' : '') + n;
    };
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' + p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
  }
  var STYLE =
    '.evb{font:14px sans-serif;max-width:min(960px,calc(100vw - 16px))}.evb canvas{width:100%;box-sizing:border-box;border:1px solid #bbb;touch-action:none;display:block;outline:none}' +
    '.evb-row{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin:4px 0}.evb-button{font:inherit;padding:6px 10px;min-height:36px;border:1px solid #999;border-radius:4px;background:#f6f6f6;cursor:pointer}' +
    '.evb-button.selected{background:#ffe0b3;border-color:#ff8c00}.evb-button[disabled]{opacity:.45;cursor:default}.evb-primary{background:#2e7d32;color:#fff;border-color:#2e7d32}' +
    '.evb-note{font-size:12px;color:#666}.evb-error{color:#b00020}.evb-ok{color:#2e7d32}.evb input{font:inherit;padding:5px;min-height:24px;width:9em;border:1px solid #999;border-radius:4px;background:#fff;color:#222}' +
    '.evb-history{font-size:12px;color:#444;margin:4px 0 0;padding-left:18px;max-height:7em;overflow:auto}';

  /**
   * Builds the widget into `root`. opts: type ("vision-line-count" | "vision-productivity-state"),
   * node (the node's id), adminRoot (Node-RED's httpAdminRoot, default "/"), pictureEveryS (reload the
   * camera picture this often; 0 = only on demand, the default). Returns { reload(), destroy() }.
   */
  function mount(root, opts) {
    var type = opts.type;
    var admin = (opts.adminRoot || '/').replace(/\/?$/, '/');
    var base = admin + type + '/' + encodeURIComponent(opts.node);
    var lines = type !== 'vision-productivity-state';
    var state = null; // the node's board state (GET …/board)
    var text = null; // the geometry on the board, as JSON text
    var dirty = false;
    var canEdit = false;
    var timer = null;

    if (!document.getElementById('evb-style')) document.head.appendChild(el('style', { id: 'evb-style', text: STYLE }));
    var who = el('span', { class: 'evb-note' });
    var signIn = button('Sign in to edit');
    var tools = el('span', { class: 'evb-row', style: 'margin:0' });
    var modes = {};
    (lines ? ['select', 'line', 'zone'] : ['select', 'zone']).forEach(function (m) {
      modes[m] = button({ select: 'Select', line: 'Add line', zone: lines ? 'Add zone' : 'Add station' }[m]);
      modes[m].setAttribute('data-mode', m);
      modes[m].addEventListener('click', function () {
        board.setMode(m);
      });
      tools.appendChild(modes[m]);
    });
    var name = el('input', { type: 'text', 'aria-label': 'name', placeholder: 'name' });
    var flip = button('Flip in/out');
    var del = button('Delete');
    var selected = el('span', { class: 'evb-row', style: 'margin:0;display:none' }, [name, flip, del]);
    var apply = button('Apply', 'evb-primary');
    var revert = button('Discard');
    var undo = button('Undo last change');
    var picture = button('Newest picture');
    var canvas = el('canvas', { tabindex: '0', width: '640', height: '360' });
    var msg = el('div', { class: 'evb-note', role: 'status' });
    var history = el('ul', { class: 'evb-history' });
    var user = el('input', { type: 'text', placeholder: 'user', autocomplete: 'username' });
    var pass = el('input', { type: 'password', placeholder: 'password', autocomplete: 'current-password' });
    var login = button('Sign in', 'evb-primary');
    var loginRow = el('div', { class: 'evb-row', style: 'display:none' }, [user, pass, login]);
    var editRow = el('div', { class: 'evb-row' }, [tools, selected]);
    var applyRow = el('div', { class: 'evb-row' }, [apply, revert, undo, picture]);
    var wrap = el('div', { class: 'evb' }, [el('div', { class: 'evb-row' }, [who, signIn]), loginRow, editRow, canvas, applyRow, msg, history]);
    root.innerHTML = '';
    root.appendChild(wrap);

    function say(t, kind) {
      msg.textContent = t;
      msg.className = 'evb-note' + (kind ? ' evb-' + kind : '');
    }
    function call(method, url, body) {
      var h = { Accept: 'application/json' };
      var t = token(admin);
      if (t) h.Authorization = 'Bearer ' + t;
      if (body !== undefined) h['Content-Type'] = 'application/json';
      return fetch(url, { method: method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' }).then(
        function (r) {
          return r.text().then(function (b) {
            var j = null;
            try {
              j = b ? JSON.parse(b) : null;
            } catch (e) {
              j = null;
            }
            return { status: r.status, body: j };
          });
        },
      );
    }

    var board = new window.EdgeVisionBoard.GeometryBoard({
      canvas: canvas,
      parse: function (t) {
        var g = JSON.parse(t);
        return g && typeof g === 'object' && !Array.isArray(g) ? g : null;
      },
      format: function (g) {
        return JSON.stringify(lines ? { lines: g.lines, zones: g.zones } : { zones: g.zones });
      },
      setText: function (t) {
        text = t;
        dirty = true;
        show();
        board.load(t);
      },
      text: function (k) {
        return k === 'invalid' ? 'the geometry cannot be drawn' : k;
      },
      zoneName: lines ? 'zone' : 'station',
      readOnly: function () {
        return !canEdit;
      },
      onMode: function (m) {
        Object.keys(modes).forEach(function (k) {
          modes[k].classList.toggle('selected', k === m);
        });
      },
      onSelect: function (o, kind) {
        selected.style.display = o && canEdit ? '' : 'none';
        flip.style.display = kind === 'lines' ? '' : 'none';
        if (o && name.value !== o.name) name.value = o.name;
      },
    });

    /** Buttons and labels for the state now. */
    function show() {
      editRow.style.display = canEdit ? '' : 'none';
      apply.style.display = revert.style.display = undo.style.display = canEdit ? '' : 'none';
      apply.disabled = revert.disabled = !dirty;
      undo.disabled = dirty || !(state && state.canUndo);
      canvas.style.cursor = canEdit ? '' : 'default';
      history.innerHTML = '';
      ((state && state.history) || []).slice(0, 5).forEach(function (h) {
        history.appendChild(
          el('li', { text: time(h.tMs) + ' · ' + h.by + ' · ' + (h.action === 'undo' ? 'undid a change' : 'changed') + (h.undone ? ' (undone)' : '') }),
        );
      });
    }
    function take(s) {
      state = s;
      canEdit = !!s.canEdit;
      text = JSON.stringify(s.geometry);
      dirty = false;
      who.textContent = (s.user === 'no login' ? '' : s.user + ' · ') + (canEdit ? 'can edit' : 'view only');
      signIn.style.display = canEdit ? 'none' : '';
      if (!canEdit) board.setMode('select');
      board.load(text);
      show();
    }
    function answer(r, ok) {
      if (r.status === 200) {
        take(r.body);
        if (ok) say(ok, 'ok');
        return;
      }
      if (r.status === 401) {
        canEdit = false;
        show();
        loginRow.style.display = '';
        say('sign in with a user that may change this node', 'error');
        return;
      }
      var why = (r.body && r.body.error) || 'HTTP ' + r.status;
      if (r.status === 409 && r.body && r.body.current !== undefined) {
        reload().then(function () {
          say(why, 'error');
        });
        return;
      }
      say(why, 'error');
    }
    function reload() {
      return call('GET', base + '/board').then(function (r) {
        if (r.status === 401) {
          who.textContent = 'sign in to see this board';
          loginRow.style.display = '';
          signIn.style.display = 'none';
          return;
        }
        answer(r);
      }, netFail);
    }
    function netFail(e) {
      say('cannot reach Node-RED: ' + e.message, 'error');
    }
    function loadPicture() {
      if (!state) return; // not signed in yet: the sign-in loads it
      canvas.width = Math.max(320, Math.min(960, Math.round(wrap.clientWidth || 640)));
      return call('GET', base + '/snapshot').then(function (r) {
        if (r.status !== 200 || !r.body || !r.body.image) {
          say((r.body && r.body.error) || 'no picture of the camera yet', 'error');
          board.load(text || '{}');
          return;
        }
        var img = new Image();
        img.onload = function () {
          board.setPicture(img);
          if (/picture/.test(msg.textContent)) say('');
          canvas.setAttribute('data-picture', r.body.width + 'x' + r.body.height);
        };
        img.src = r.body.image;
      }, netFail);
    }

    apply.addEventListener('click', function () {
      if (!dirty || !state) return;
      apply.disabled = true;
      call('PUT', base + '/board', { geometry: JSON.parse(text), rev: state.rev }).then(function (r) {
        answer(r, 'applied: the node counts on the new geometry now');
      }, netFail);
    });
    revert.addEventListener('click', function () {
      if (state) take(state);
      say('');
    });
    undo.addEventListener('click', function () {
      if (!state) return;
      call('POST', base + '/board/undo', { rev: state.rev }).then(function (r) {
        answer(r, 'undone: the node is back on the geometry before the last change');
      }, netFail);
    });
    flip.addEventListener('click', function () {
      board.flip();
    });
    del.addEventListener('click', function () {
      board.remove();
    });
    name.addEventListener('input', function () {
      name.style.borderColor = board.rename(name.value) ? '' : '#b00020';
    });
    picture.addEventListener('click', loadPicture);
    signIn.addEventListener('click', function () {
      loginRow.style.display = loginRow.style.display === 'none' ? '' : 'none';
    });
    login.addEventListener('click', function () {
      var form = new URLSearchParams({ client_id: 'node-red-editor', grant_type: 'password', scope: '', username: user.value, password: pass.value });
      fetch(admin + 'auth/token', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString() })
        .then(function (r) {
          return r.ok ? r.json() : Promise.reject(new Error(r.status === 401 || r.status === 403 ? 'wrong user or password' : 'HTTP ' + r.status));
        })
        .then(function (t) {
          // Kept where the editor keeps its own, so the editor and the board share one sign-in.
          localStorage.setItem(tokenKey(admin), JSON.stringify(t));
          pass.value = '';
          loginRow.style.display = 'none';
          return reload().then(loadPicture);
        })
        .catch(function (e) {
          say('sign-in failed: ' + e.message, 'error');
        });
    });

    board.setMode('select');
    reload().then(loadPicture);
    if (opts.pictureEveryS > 0) timer = setInterval(loadPicture, opts.pictureEveryS * 1000);
    return {
      reload: reload,
      destroy: function () {
        if (timer) clearInterval(timer);
        root.innerHTML = '';
      },
    };
  }

  window.EdgeVisionBoardWidget = { mount: mount };
})();

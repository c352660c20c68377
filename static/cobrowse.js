// Parley co-browsing viewer (views.CobrowseViewerPage), framed by the desk's
// conversation page when the agent opens co-browsing; the only page that
// loads rrweb's replayer. It reads the session's chunks (JSON arrays of
// rrweb events) after the last one applied, whenever the desk says the
// stream announced one (postMessage from the parent, same origin) and every
// few seconds in case it missed one, and applies them live. A click on the
// mirrored page outlines that element on the customer's page (rrweb node
// id); the wheel scrolls the customer's page. The replayed page runs no
// script: rrweb's iframe is sandboxed and this page's CSP allows only ours.
(function () {
  'use strict';
  var meta = document.getElementById('cobrowse-meta');
  var stage = document.getElementById('cobrowse-stage');
  var status = document.getElementById('cobrowse-status');
  var chunksURL = meta.getAttribute('data-chunks'), commandURL = meta.getAttribute('data-command');
  var session = meta.getAttribute('data-session');
  var after = 0, busy = false, again = false, ended = false, replayer = null, scale = 1, size = null;
  // Counts what was applied, for tests and diagnostics.
  var stats = window.ParleyCobrowse = { chunks: 0, events: 0, lastChunk: 0 };

  var fit = function () {
    if (!replayer || !size) return;
    scale = Math.min(1, (stage.clientWidth || size.width) / size.width);
    replayer.wrapper.style.transform = 'scale(' + scale + ')';
    replayer.wrapper.style.transformOrigin = '0 0';
    stage.style.height = Math.ceil(size.height * scale) + 'px';
  };
  var apply = function (ev) {
    // Live: each event plays as it arrives, in order, whatever the two
    // machines' clocks say.
    ev.timestamp = Date.now();
    if (!replayer) {
      replayer = new rrwebReplay.Replayer([], { root: stage, liveMode: true, mouseTail: false, UNSAFE_replayCanvas: false });
      replayer.on('resize', function (d) { size = d; fit(); });
      replayer.startLive(ev.timestamp - 1);
      replayer.wrapper.addEventListener('click', highlight);
      status.hidden = true;
    }
    if (ev.type === 4 && ev.data && ev.data.width) { size = { width: ev.data.width, height: ev.data.height }; }
    replayer.addEvent(ev);
    stats.events++;
  };
  var pull = function () {
    if (ended) return;
    if (busy) { again = true; return; }
    busy = true;
    fetch(chunksURL + '?after=' + after, { credentials: 'same-origin', headers: { Accept: 'application/json' } }).then(function (r) {
      if (!r.ok) throw new Error('chunks: ' + r.status);
      return r.json();
    }).then(function (d) {
      (d.chunks || []).forEach(function (c) {
        (c.events || []).forEach(apply);
        after = c.id;
        stats.chunks++;
        stats.lastChunk = c.id;
      });
      fit();
      busy = false;
      if (d.state !== 'active' && d.state !== 'requested') {
        ended = true;
        status.textContent = meta.getAttribute('data-msg-ended');
        status.hidden = false;
        return;
      }
      if (d.more || again) { again = false; pull(); }
    }, function () { busy = false; });
  };
  var command = function (fields) {
    var body = new URLSearchParams(fields);
    return fetch(commandURL, { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': meta.getAttribute('data-csrf-token') }, body: body });
  };
  function highlight(e) {
    if (!replayer) return;
    var f = replayer.iframe, r = f.getBoundingClientRect();
    var doc = f.contentDocument;
    if (!doc) return;
    var el = doc.elementFromPoint((e.clientX - r.left) / scale, (e.clientY - r.top) / scale);
    var id = el ? replayer.getMirror().getId(el) : -1;
    if (!(id > 0)) return;
    var old = doc.querySelector('[data-parley-picked]');
    if (old) old.removeAttribute('data-parley-picked');
    el.setAttribute('data-parley-picked', '');
    command({ cmd: 'highlight', node: String(id) });
  }
  var dy = 0, wheelTimer = null;
  stage.addEventListener('wheel', function (e) {
    if (!replayer) return;
    e.preventDefault();
    dy += e.deltaY / scale;
    if (wheelTimer) return;
    wheelTimer = setTimeout(function () {
      wheelTimer = null;
      var n = Math.round(dy);
      dy = 0;
      if (n) command({ cmd: 'scroll', dy: String(Math.max(-20000, Math.min(20000, n))) });
    }, 250);
  }, { passive: false });
  window.addEventListener('message', function (e) {
    if (e.origin !== location.origin || e.source !== window.parent) return;
    if (e.data && e.data.type === 'parley:cobrowse-chunk' && e.data.session === session) pull();
  });
  window.addEventListener('resize', fit);
  setInterval(pull, 3000);
  pull();
})();

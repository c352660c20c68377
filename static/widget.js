/*! Parley chat widget loader. Embed with
 *   <script async src="https://parley.example.com/widget.js"></script>
 * Optionally tell it who the visitor is, before that tag:
 *   window.ParleySettings = {user: {id, email, name, signature}, language: "fr"}
 * or with data-user-id, data-user-email, data-user-name, data-user-signature,
 * data-lang on the tag. Defines one global, window.Parley = {open, close,
 * toggle, reset}.
 *
 * Co-browsing: only after the customer allowed it in the chat, the frame
 * asks this loader to load rrweb's recorder (never on first load). It
 * records this page with every input masked and without the elements a site
 * marks private (class "parley-private" or attribute data-parley-private,
 * which rrweb replaces by an empty box of the same size), and hands the
 * events to the frame in batches (at most one per 250 ms; the first change
 * after a quiet spell at once); the frame posts them to
 * Parley with the visitor's token. While it runs, a bar says "Agent is
 * viewing this page" with an End button.
 *
 * It adds a launcher button and an iframe served by Parley. The visitor's
 * token lives here, in the host page's storage (first-party, so blocked
 * third-party cookies do not lose it), and reaches the iframe in the URL
 * fragment, which is never sent to a server. Nothing shows until the frame
 * says it is ready, so a failed load leaves the page as it was.
 */
(function (w, d) {
  'use strict';
  if (w.Parley && w.Parley.v) return; // the tag is on the page twice
  var api = w.Parley = { v: 1 };
  try {
    var script = d.currentScript || d.querySelector('script[src*="/widget.js"]');
    var src = new URL(script.src, location.href);
    var origin = src.origin;
    var base = origin + src.pathname.replace(/\/widget\.js$/, '');
    var data = script.dataset || {};
    var cfg = w.ParleySettings || {};
    var user = cfg.user || (data.userId || data.userEmail ? {
      id: data.userId, email: data.userEmail, name: data.userName, signature: data.userSignature
    } : null);
    var lang = cfg.language || data.lang || navigator.language || '';
    var KEY = 'parley.visitor:' + origin;
    var token = '';
    try { token = localStorage.getItem(KEY) || ''; } catch (e) { /* storage blocked: this page view only */ }

    var root, panel, frame, btn, badge, timer;
    var open = false, ready = false, cssReady = false, wantOpen = false, labels = {};

    var el = function (tag, cls) {
      var e = d.createElement(tag);
      if (cls) e.className = cls;
      return e;
    };
    var send = function (m) {
      try { frame.contentWindow.postMessage(m, origin); } catch (e) { /* frame gone */ }
    };
    var label = function (n) {
      btn.setAttribute('aria-label', (open ? labels.close : labels.open) + (n ? ' (' + n + ')' : ''));
    };
    var setUnread = function (n) {
      n = open ? 0 : Math.max(0, n | 0);
      badge.textContent = n > 9 ? '9+' : String(n);
      badge.hidden = !n;
      label(n);
    };
    var setOpen = function (on, focusLauncher) {
      if (!ready || !cssReady) { wantOpen = on; return; } // Parley.open() before the frame is ready
      if (on === open) return;
      open = on;
      root.classList.toggle('parley-open', on);
      btn.setAttribute('aria-expanded', String(on));
      setUnread(0);
      if (on) {
        send({ type: 'parley:open', page: location.href });
        frame.focus();
      } else {
        send({ type: 'parley:closed' });
        if (focusLauncher) btn.focus();
      }
    };
    var show = function () {
      if (!ready || !cssReady) return;
      root.style.removeProperty('display');
      if (wantOpen) setOpen(true);
    };
    var apply = function (m) {
      if (/^#[0-9a-f]{6}$/i.test(m.color)) root.style.setProperty('--parley-brand', m.color);
      if (/^#[0-9a-f]{6}$/i.test(m.ink)) root.style.setProperty('--parley-ink', m.ink);
      if (typeof m.open === 'string') labels.open = m.open;
      if (typeof m.close === 'string') labels.close = m.close;
      if (typeof m.title === 'string') frame.title = m.title;
      label(0);
    };

    // ---- co-browsing ----------------------------------------------------------
    var cob = null; // {session, stop, buf, timer, last, bar}
    var RECORDER = base + '__PARLEY_RRWEB_RECORD__';
    var cobFlush = function () {
      if (!cob) return;
      cob.timer = null;
      if (!cob.buf.length) return;
      var events = cob.buf;
      cob.buf = [];
      cob.last = Date.now();
      send({ type: 'parley:cobrowse-events', session: cob.session, events: events });
    };
    var cobStop = function () {
      if (!cob) return;
      cobFlush();
      clearTimeout(cob.timer);
      clearInterval(cob.alive);
      if (cob.stop) { try { cob.stop(); } catch (e) { /* already stopped */ } }
      if (cob.bar) cob.bar.remove();
      cob = null;
    };
    var cobBar = function (m) {
      var bar = el('div', 'parley-cobrowse-bar parley-private');
      bar.setAttribute('role', 'status');
      var t = el('span');
      t.textContent = typeof m.viewing === 'string' ? m.viewing : 'Agent is viewing this page';
      var end = el('button');
      end.type = 'button';
      end.textContent = typeof m.end === 'string' ? m.end : 'End';
      end.addEventListener('click', function () { send({ type: 'parley:cobrowse-end', session: cob && cob.session }); });
      bar.appendChild(t);
      bar.appendChild(end);
      d.body.appendChild(bar);
      return bar;
    };
    var cobStart = function (m) {
      if (typeof m.session !== 'string' || !/^[0-9a-f-]{36}$/.test(m.session)) return;
      if (cob && cob.session === m.session) return;
      cobStop();
      var me = cob = { session: m.session, buf: [], last: 0, bar: cobBar(m) };
      var go = function () {
        var lib = w.rrwebRecord;
        if (cob !== me || !lib || !lib.record) return;
        me.stop = lib.record({
          // At most one batch per 250 ms; the first change after a quiet
          // spell goes at once (after this task's other mutations).
          emit: function (ev) {
            me.buf.push(ev);
            if (!me.timer) me.timer = setTimeout(cobFlush, Math.max(0, 250 - (Date.now() - me.last)));
          },
          maskAllInputs: true,
          blockClass: 'parley-private',
          blockSelector: '[data-parley-private], .parley-root',
          recordCanvas: false,
          collectFonts: false,
          inlineImages: false
        });
        me.record = lib.record;
        // A quiet page posts nothing: a tiny custom event every 30 s tells
        // the server the page is still there (its reaper ends a silent
        // session); the agent's replayer ignores it.
        me.alive = setInterval(function () {
          if (cob !== me) { clearInterval(me.alive); return; }
          if (!me.buf.length && lib.record.addCustomEvent) lib.record.addCustomEvent('parley-alive', {});
        }, 30000);
      };
      if (w.rrwebRecord) return go();
      var s = d.createElement('script');
      s.src = RECORDER;
      s.async = true;
      s.onload = go;
      d.head.appendChild(s);
    };
    // An agent's highlight: a short-lived outline over the element (an
    // overlay, so the page's own styles are untouched), scrolled into view.
    var cobCommand = function (m) {
      if (!cob || !cob.record || m.session !== cob.session) return;
      if (m.cmd === 'scroll' && typeof m.dy === 'number') {
        w.scrollBy({ top: m.dy, behavior: 'smooth' });
        return;
      }
      var node = m.cmd === 'highlight' && cob.record.mirror ? cob.record.mirror.getNode(m.node | 0) : null;
      if (!node || node.nodeType !== 1) return;
      node.scrollIntoView({ block: 'center', behavior: 'smooth' });
      var box = el('div', 'parley-cobrowse-highlight parley-private');
      var place = function () {
        var r = node.getBoundingClientRect();
        box.style.top = (r.top - 4) + 'px';
        box.style.left = (r.left - 4) + 'px';
        box.style.width = (r.width + 8) + 'px';
        box.style.height = (r.height + 8) + 'px';
      };
      place();
      d.body.appendChild(box);
      var iv = setInterval(place, 50);
      setTimeout(function () { clearInterval(iv); box.remove(); }, 2500);
    };

    var onMessage = function (e) {
      if (e.origin !== origin || !frame || e.source !== frame.contentWindow) return;
      var m = e.data || {};
      switch (m.type) {
        case 'parley:ready':
          clearTimeout(timer);
          apply(m);
          ready = true;
          show();
          sentPage = '';
          watchPage();
          break;
        case 'parley:config':
          apply(m);
          break;
        case 'parley:token':
          if (typeof m.token === 'string' && /^[\w-]{20,200}$/.test(m.token)) {
            token = m.token;
            try { localStorage.setItem(KEY, token); } catch (err) { /* keep it in memory */ }
          }
          break;
        case 'parley:unread':
          setUnread(m.count);
          break;
        case 'parley:close':
          setOpen(false, true);
          break;
        case 'parley:cobrowse-ask':
          setOpen(true);
          break;
        case 'parley:cobrowse-start':
          cobStart(m);
          break;
        case 'parley:cobrowse-stop':
          cobStop();
          break;
        case 'parley:cobrowse-cmd':
          cobCommand(m);
          break;
      }
    };

    // The page the visitor is on, for the team (the frame reports it): sent
    // when the frame is ready and whenever the address or title changes
    // (single-page sites navigate without reloading us), checked every
    // second: a comparison of two strings.
    var sentPage = '', pageTimer = null;
    var watchPage = function () {
      var now = location.href + '\n' + d.title;
      if (ready && now !== sentPage) {
        sentPage = now;
        send({ type: 'parley:page', url: location.href, title: String(d.title || '').slice(0, 300) });
      }
      if (!pageTimer) pageTimer = setInterval(watchPage, 1000);
    };
    w.addEventListener('popstate', function () { watchPage(); });
    w.addEventListener('hashchange', function () { watchPage(); });

    var svg = function () {
      var ns = 'http://www.w3.org/2000/svg', s = d.createElementNS(ns, 'svg'), p = d.createElementNS(ns, 'path');
      s.setAttribute('viewBox', '0 0 24 24');
      s.setAttribute('aria-hidden', 'true');
      s.setAttribute('focusable', 'false');
      p.setAttribute('d', 'M4 5.5A2.5 2.5 0 0 1 6.5 3h11A2.5 2.5 0 0 1 20 5.5v8a2.5 2.5 0 0 1-2.5 2.5H10l-4.2 3.6A.5.5 0 0 1 5 19.2V16A2.5 2.5 0 0 1 4 14V5.5z');
      p.setAttribute('fill', 'currentColor');
      s.appendChild(p);
      return s;
    };

    var build = function () {
      root = el('div', 'parley-root');
      root.style.display = 'none'; // until the stylesheet and the frame are ready
      var css = el('link');
      css.rel = 'stylesheet';
      css.href = base + '__PARLEY_LOADER_CSS__';
      css.onload = function () { cssReady = true; show(); };
      panel = el('div', 'parley-panel');
      panel.id = 'parley-panel';
      frame = el('iframe', 'parley-frame');
      frame.title = 'Chat';
      // Remote support (screen sharing, calls) asks for these inside the frame.
      frame.allow = 'display-capture; camera; microphone; autoplay';
      var boot = JSON.stringify({ t: token, o: location.origin, p: location.href, r: d.referrer, u: user });
      frame.src = base + '/widget/frame?lang=' + encodeURIComponent(lang) + '#' + encodeURIComponent(boot);
      panel.appendChild(frame);
      btn = el('button', 'parley-launcher');
      btn.type = 'button';
      btn.setAttribute('aria-controls', panel.id);
      btn.setAttribute('aria-expanded', 'false');
      btn.appendChild(svg());
      badge = el('span', 'parley-badge');
      badge.hidden = true;
      btn.appendChild(badge);
      btn.addEventListener('click', function () { setOpen(!open, true); });
      root.appendChild(css);
      root.appendChild(panel);
      root.appendChild(btn);
      d.body.appendChild(root);
      timer = setTimeout(function () {
        if (w.console) console.warn('Parley: the chat did not load. Is ' + location.origin + ' listed under Allowed sites in the widget settings?');
      }, 20000);
    };

    w.addEventListener('message', onMessage);
    d.addEventListener('keydown', function (e) {
      if (open && (e.key === 'Escape' || e.key === 'Esc')) setOpen(false, true);
    });
    api.open = function () { setOpen(true); };
    api.close = function () { setOpen(false); };
    api.toggle = function () { setOpen(!open); };
    // reset forgets the visitor (for example when the site's user signs out).
    api.reset = function () {
      try { localStorage.removeItem(KEY); } catch (e) { /* nothing stored */ }
      token = '';
      user = (w.ParleySettings || {}).user || null;
      cobStop();
      if (root) root.remove();
      open = ready = cssReady = wantOpen = false;
      build();
    };
    if (d.body) build(); else d.addEventListener('DOMContentLoaded', build);
  } catch (e) {
    if (w.console) console.warn('Parley: the chat widget could not start.', e);
  }
})(window, document);

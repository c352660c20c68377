// Parley chat widget: the behaviour of the page inside the iframe. Loaded
// with `defer` after swap.js (the part of htmx Parley's pages use: the
// same attributes and events) and live.js. No framework, no build.
//
// Contract with the loader on the host page (static/widget.js):
//   the URL fragment carries JSON {t: token, o: host origin, p: page URL,
//   r: referrer, u: {id, email, name, signature} or null}; it is removed
//   from the address at once.
//   frame → loader (postMessage, only to the host origin, and only if that
//   origin is one the desk allows):
//     {type: 'parley:ready'|'parley:config', color, ink, open, close, title}
//     {type: 'parley:token', token}    a new visitor was created
//     {type: 'parley:unread', count}   agent messages since the panel closed
//     {type: 'parley:active', on}      whether the visitor has a conversation
//                                      running (the loader then creates the
//                                      frame at once on the next page)
//     {type: 'parley:close'}           the close button or Escape
//     {type: 'parley:cobrowse-ask'}    an agent asks to co-browse: show the chat
//     {type: 'parley:cobrowse-start', session, viewing, end} the customer
//                                      allowed it: load rrweb's recorder
//     {type: 'parley:cobrowse-stop'}   it ended (either side)
//     {type: 'parley:cobrowse-cmd', session, cmd, node, dy} highlight/scroll
//   loader → frame (accepted only from the parent window, from that origin):
//     {type: 'parley:open', page} / {type: 'parley:closed'}
//     {type: 'parley:page', url, title}  the host page (on load, on navigation)
//     {type: 'parley:cobrowse-events', session, events} recorded events,
//                                      posted here with the visitor's token
//     {type: 'parley:cobrowse-end', session} the End button on the host page
// Contract with the server:
//   every htmx request carries X-Parley-Visitor (the token) and
//   X-Parley-Lang; a 401 means the token is unknown: start a new visitor.
//   HX-Trigger {"toast": {"level", "message"}} shows a message.
//   The stream's "notify" events list new agent messages (ids).
//   Message posts (#w-composer, #w-start) carry an Idempotency-Key, one per
//   composed message and the same on every retry of it; 503 (with
//   Retry-After) and network errors are retried with backoff.
(function () {
  'use strict';

  var meta = document.getElementById('w-meta');
  var msg = function (name) { return meta.getAttribute('data-msg-' + name) || ''; };
  var allowed = (meta.getAttribute('data-origins') || '').split(' ').filter(Boolean);
  var lang = new URLSearchParams(location.search).get('lang') || meta.getAttribute('data-lang') || '';
  var str = function (v) { return typeof v === 'string' ? v : ''; };

  // ---- what the loader passed ------------------------------------------------
  var boot = {};
  try { boot = JSON.parse(decodeURIComponent(location.hash.slice(1))) || {}; } catch (e) { boot = {}; }
  // A reload (the live stream asks for one when the frame is too far behind)
  // has no fragment any more: what the loader passed, with the visitor made
  // since, is kept in this history entry's state, which survives reloads.
  var st = history.state;
  if (!location.hash && st && typeof st === 'object' && st.parleyBoot && typeof st.parleyBoot === 'object') boot = st.parleyBoot;
  var remember = function () {
    try { history.replaceState({ parleyBoot: boot }, '', location.pathname + location.search); } catch (e) { /* nothing kept */ }
  };
  remember();
  var token = str(boot.t);
  var page = str(boot.p), referrer = str(boot.r);
  var user = boot.u && typeof boot.u === 'object' ? boot.u : null;
  var framed = window.parent !== window;
  // Opened as a page of its own (the link in a customer's email), the frame
  // keeps its visitor for the tab's lifetime, so a reload stays in the chat.
  var keep = function () {
    boot.t = token;
    remember();
    if (framed) return;
    try {
      if (token) sessionStorage.setItem('parley.visitor', token); else sessionStorage.removeItem('parley.visitor');
    } catch (e) { /* storage refused: the visitor lasts as long as the page */ }
  };
  if (!framed && !token) {
    try { token = sessionStorage.getItem('parley.visitor') || ''; } catch (e) { token = ''; }
  }
  keep();
  // The frame can only be embedded by allowed sites (CSP frame-ancestors);
  // it also only ever talks to the origin the loader named if that is one of
  // them, and postMessage delivers nothing if the parent is another.
  var parentOrigin = framed && (boot.o === location.origin || allowed.indexOf(boot.o) >= 0) ? boot.o : null;
  var toParent = function (m) {
    if (parentOrigin) window.parent.postMessage(m, parentOrigin);
  };
  if (parentOrigin) document.body.classList.add('w-framed');
  var open = !parentOrigin; // standalone, the page is always "open"
  var unread = 0, seen = {};

  // ---- toasts ------------------------------------------------------------------
  var toast = function (text) {
    if (!text) return;
    var box = document.getElementById('w-toasts'), t = document.createElement('div');
    t.className = 'w-toast';
    t.textContent = String(text); // server text: never innerHTML
    box.appendChild(t);
    setTimeout(function () { t.remove(); }, 6000);
    t.addEventListener('click', function () { t.remove(); });
  };
  var toasted = false;
  // A form already retrying on its own says so under itself: its repeated
  // failures do not toast again.
  var retrying = function (el) { return !!(el && el.hasAttribute && el.hasAttribute('data-retrying')); };
  document.body.addEventListener('toast', function (e) {
    var d = e.detail || {};
    toasted = true;
    if (retrying(e.target)) return;
    toast(d.message != null ? d.message : d.value);
  });

  // ---- htmx --------------------------------------------------------------------
  // Swap 422 (a form with its errors); other errors keep the page (and
  // what the visitor typed) and show a toast.
  htmx.config.responseHandling = [
    { code: '204', swap: false },
    { code: '[23]..', swap: true },
    { code: '422', swap: true, error: true },
    { code: '[45]..', swap: false, error: true },
    { code: '...', swap: false }
  ];
  var timeZone = function () {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch (e) { return ''; }
  };
  // files.js sends uploads with XHR: the same headers as htmx requests.
  window.ParleyVisitorHeaders = function () { return { 'X-Parley-Visitor': token, 'X-Parley-Lang': lang }; };
  document.body.addEventListener('htmx:configRequest', function (e) {
    e.detail.headers['X-Parley-Visitor'] = token;
    e.detail.headers['X-Parley-Lang'] = lang;
    if (frameId) e.detail.headers['X-Parley-Frame'] = frameId; // its streams say while it is open
    var form = e.detail.elt;
    if (e.detail.verb === 'post' && isSendForm(form)) {
      // One key per composed message: kept while the text is unchanged, so
      // every retry of it is recognised; a new text is a new message.
      var field = form.querySelector('[name=body]'), text = field ? field.value : '';
      if (!form.parleyKey || form.parleyKeyText !== text) {
        form.parleyKey = newKey();
        form.parleyKeyText = text;
      }
      e.detail.headers['Idempotency-Key'] = form.parleyKey;
    }
    if (e.detail.verb === 'post' && e.detail.path === '/widget/conversations') {
      var p = e.detail.parameters;
      p.page_url = page;
      p.referrer = referrer;
      p.tz = timeZone();
      p.lang = lang || navigator.language || '';
    }
  });
  document.body.addEventListener('htmx:beforeOnLoad', function () { toasted = false; });
  document.body.addEventListener('htmx:responseError', function (e) {
    var xhr = e.detail.xhr;
    if (!xhr || xhr.status === 422 || toasted) return;
    if (xhr.status === 401) return restart();
    toast(msg('server-error'));
  });
  document.body.addEventListener('htmx:sendError', function (e) {
    if (!retrying(e.detail.elt)) toast(msg('network-error'));
  });

  // ---- sending messages: nothing typed is lost ------------------------------------
  // A failed send never clears the form (errors are not swapped). When the
  // failure should pass by itself (503: the server cannot reach its
  // database; the network is down), the form says "not sent yet, retrying"
  // and sends again with backoff, honouring Retry-After; the same key makes
  // a retry of a post that did go through store nothing new. Other
  // failures (429, 403…) keep the text and say so; sending is up to the
  // visitor.
  function isSendForm(el) { return !!(el && el.matches && el.matches('#w-composer, #w-start')); }
  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
  }
  var sendState = function (form, text) {
    var p = form.querySelector('.w-retry');
    if (!text) {
      if (p) p.remove();
      return;
    }
    if (!p) {
      p = document.createElement('p');
      p.className = 'w-retry';
      p.setAttribute('role', 'status');
      form.appendChild(p);
    }
    p.textContent = text;
  };
  document.body.addEventListener('htmx:afterRequest', function (e) {
    var form = e.detail.elt, xhr = e.detail.xhr;
    if (!isSendForm(form)) return;
    var status = xhr ? xhr.status : 0;
    clearTimeout(form.parleyRetry);
    if (e.detail.successful || status === 422) { // sent, or refused with reasons beside the fields
      form.parleyAttempts = 0;
      form.removeAttribute('data-retrying');
      sendState(form, '');
      return;
    }
    if (status === 0 || status === 502 || status === 503 || status === 504) {
      var n = form.parleyAttempts = (form.parleyAttempts || 0) + 1;
      var delay = Math.min(30000, 1000 * Math.pow(2, n - 1));
      var after = parseInt(xhr && xhr.getResponseHeader('Retry-After'), 10);
      if (after > 0) delay = Math.max(delay, Math.min(after, 120) * 1000);
      delay = Math.round(delay * (1 + Math.random() * 0.2)); // many widgets: not all at once
      form.setAttribute('data-retrying', '');
      sendState(form, msg('retrying'));
      form.parleyRetry = setTimeout(function () {
        if (!form.isConnected) return; // the visitor went elsewhere
        if (form.requestSubmit) form.requestSubmit(); else htmx.trigger(form, 'submit');
      }, delay);
      return;
    }
    form.parleyAttempts = 0;
    form.removeAttribute('data-retrying');
    sendState(form, msg('not-sent'));
  });

  // ---- visitor -------------------------------------------------------------------
  var post = function (path, body) {
    var headers = { 'X-Parley-Lang': lang };
    if (token) headers['X-Parley-Visitor'] = token;
    return fetch(path, { method: 'POST', headers: headers, body: body, credentials: 'omit' });
  };
  var ensureVisitor = function () {
    if (token) return Promise.resolve();
    return post('/widget/api/visitors').then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok || !j.token) {
          var err = new Error('create visitor: ' + r.status);
          err.shown = str(j.error) || msg('server-error'); // e.g. the translated rate-limit message
          throw err;
        }
        token = j.token;
        keep();
        toParent({ type: 'parley:token', token: token });
      });
    });
  };
  var identify = function () {
    if (!user) return Promise.resolve();
    var body = new URLSearchParams();
    ['id', 'email', 'name', 'signature'].forEach(function (k) {
      if (user[k] != null) body.set(k, String(user[k]));
    });
    return post('/widget/api/identify', body).then(function (r) {
      if (r.status === 401) {
        token = '';
        keep();
        var err = new Error('unknown visitor');
        err.stale = true;
        throw err;
      }
    });
  };
  // A link from an email (/chat/…) names the conversation to open first.
  var openConv = /^[0-9a-fA-F-]{36}$/.test(str(boot.c)) ? boot.c : '';
  var home = function () {
    if (openConv) {
      var pid = openConv;
      openConv = '';
      return htmx.ajax('GET', '/widget/conversations/' + pid, { target: '#view', swap: 'innerHTML' });
    }
    return htmx.ajax('GET', '/widget/home', { target: '#view', swap: 'innerHTML' });
  };
  var failed = function (err) {
    started = false; // opening the panel again tries again
    var view = document.getElementById('view');
    view.setAttribute('aria-busy', 'false');
    view.textContent = '';
    var p = document.createElement('p');
    p.className = 'w-notice w-notice-warn';
    p.textContent = (err && err.shown) || msg('network-error');
    view.appendChild(p);
  };
  // A browser that never opens the chat (most page views, and crawlers that
  // run scripts) gets no visitor: it is created when the panel first opens.
  // A returning visitor loads at once, so replies can raise the badge.
  var started = false;
  var start = function () {
    started = true;
    return ensureVisitor().then(identify).then(home).catch(function (err) {
      if (err && err.stale) return ensureVisitor().then(identify).then(home); // once more, as a new visitor
      throw err;
    }).then(function () { reportPage(); }).catch(failed);
  };
  // A token the server does not know (its data was removed): start afresh,
  // at most once a minute so a misbehaving server cannot make us loop.
  var restarted = 0;
  var restart = function () {
    if (Date.now() - restarted < 60000) return;
    restarted = Date.now();
    token = '';
    keep();
    start();
  };

  // ---- unread count for the launcher -------------------------------------------
  document.body.addEventListener('htmx:sseBeforeMessage', function (e) {
    if (e.detail.type !== 'notify') return;
    var n = 0;
    String(e.detail.data || '').split(' ').forEach(function (id) {
      if (id && !seen[id] && !document.getElementById(id)) { seen[id] = 1; n++; }
    });
    if (n && !open) {
      unread += n;
      toParent({ type: 'parley:unread', count: unread });
    }
  });

  // ---- a conversation running? -------------------------------------------------------
  // The loader creates this frame only when the launcher is first opened,
  // unless the visitor has a conversation running: then at once, so replies
  // raise the badge. Home lists the visitor's conversations (closed ones
  // carry a badge); a thread shown counts as running.
  var activeSent = null;
  document.body.addEventListener('htmx:afterSettle', function () {
    var on = null;
    if (document.getElementById('w-thread-view')) {
      on = true;
    } else if (document.getElementById('w-home')) {
      on = false;
      document.querySelectorAll('#w-convs .w-conv-row').forEach(function (row) {
        if (!row.querySelector('.w-badge')) on = true;
      });
    }
    if (on !== null && on !== activeSent) {
      activeSent = on;
      toParent({ type: 'parley:active', on: on });
    }
  });

  // ---- the loader ------------------------------------------------------------------
  var config = function (type) {
    var c = document.getElementById('w-config');
    return {
      type: type, color: c.getAttribute('data-color'), ink: c.getAttribute('data-ink'), title: c.getAttribute('data-title'),
      open: c.getAttribute('data-open-label'), close: c.getAttribute('data-close-label')
    };
  };
  document.body.addEventListener('htmx:oobAfterSwap', function (e) {
    if (e.detail.target && e.detail.target.id === 'w-config') toParent(config('parley:config'));
  });
  // Every view refreshes the theme link; keep the element (no restyle) when
  // the colour did not change. (The link is in <head>: listen on document.)
  document.addEventListener('htmx:oobBeforeSwap', function (e) {
    var t = e.detail.target, f = e.detail.fragment;
    var n = f && (f.firstElementChild || f);
    if (t && t.id === 'w-theme' && n && n.getAttribute && n.getAttribute('href') === t.getAttribute('href')) {
      e.detail.shouldSwap = false;
    }
  });
  var focusComposer = function () {
    var t = document.getElementById('w-body') ||
      document.querySelector('#view textarea:not([hidden] *), #view input:not([type=hidden]), #view button');
    if (t) t.focus();
  };
  var scrollThreads = function () {
    document.querySelectorAll('[data-autoscroll]').forEach(function (t) { t.scrollTop = t.scrollHeight; });
  };
  // ---- the visitor's current page, for the team (app/widget_page.go) ---------------
  // Reported once there is a visitor: on load, on navigation (at most every
  // 2 s, the last one always sent) and every 2 minutes while the frame is
  // there; the frame's streams tell when it is gone.
  var frameId = parentOrigin ? newKey() : '';
  var hostPage = { url: page, title: '' }, pageAt = 0, pageWait = null;
  var reportPage = function () {
    if (!frameId || !token || !/^https?:/.test(hostPage.url)) return;
    var wait = 2000 - (Date.now() - pageAt);
    if (wait > 0) {
      if (!pageWait) pageWait = setTimeout(function () { pageWait = null; reportPage(); }, wait);
      return;
    }
    pageAt = Date.now();
    var body = new URLSearchParams();
    body.set('frame', frameId);
    body.set('url', hostPage.url);
    body.set('title', hostPage.title);
    post('/widget/page', body).catch(function () { /* the next report says the same */ });
  };
  if (frameId) setInterval(reportPage, 120000);
  // Leaving the page may keep it frozen in the back/forward cache with its
  // stream connected: say so now; a page restored from there starts afresh.
  window.addEventListener('pagehide', function () {
    if (!frameId || !token) return;
    var body = new URLSearchParams();
    body.set('frame', frameId);
    body.set('state', 'left');
    try {
      fetch('/widget/page', { method: 'POST', keepalive: true, credentials: 'omit', headers: { 'X-Parley-Visitor': token, 'X-Parley-Lang': lang }, body: body });
    } catch (e) { /* the stream's end will say it */ }
  });
  window.addEventListener('pageshow', function (e) {
    if (e.persisted && frameId) location.reload();
  });

  window.addEventListener('message', function (e) {
    if (!parentOrigin || e.source !== window.parent || e.origin !== parentOrigin) return;
    var m = e.data || {};
    if (m.type === 'parley:page') {
      if (typeof m.url === 'string' && /^https?:/.test(m.url) && m.url.length <= 2000) {
        hostPage = { url: m.url, title: typeof m.title === 'string' ? m.title.slice(0, 300) : '' };
        page = m.url;
        reportPage();
      }
    } else if (m.type === 'parley:open') {
      open = true;
      unread = 0;
      if (typeof m.page === 'string' && /^https?:/.test(m.page)) page = m.page;
      if (!started) start();
      scrollThreads();
      focusComposer();
    } else if (m.type === 'parley:closed') {
      open = false;
    }
  });

  // ---- keyboard and small behaviours -------------------------------------------------
  document.addEventListener('keydown', function (e) {
    var t = e.target;
    if (e.key === 'Escape' && parentOrigin) {
      toParent({ type: 'parley:close' });
      return;
    }
    // Enter sends, Shift+Enter is a new line; not while an IME composes.
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229 &&
        t.matches && t.matches('textarea[data-enter-sends]')) {
      e.preventDefault();
      if (t.form && (t.value.trim() || t.form.querySelector('input[name=files]'))) {
        if (t.form.requestSubmit) t.form.requestSubmit(); else htmx.trigger(t.form, 'submit');
      }
    }
  });
  // Grow the composer with its text, up to a limit (CSSOM, which the CSP allows).
  document.addEventListener('input', function (e) {
    var t = e.target;
    if (t.matches && t.matches('textarea[data-enter-sends]')) {
      t.style.height = 'auto';
      t.style.height = Math.min(t.scrollHeight + 2, 160) + 'px';
    }
  });
  document.addEventListener('click', function (e) {
    var c = e.target.closest && e.target.closest('[data-close]');
    if (c) return toParent({ type: 'parley:close' });
    var s = e.target.closest && e.target.closest('[data-show]');
    if (s) {
      var target = document.getElementById(s.getAttribute('data-show'));
      if (target) {
        target.hidden = false;
        s.hidden = true;
        var f = target.querySelector('input, textarea');
        if (f) f.focus();
      }
    }
  });
  htmx.onLoad(function (el) {
    var view = document.getElementById('view');
    if (el === view || view.contains(el)) view.setAttribute('aria-busy', 'false');
    // A fresh composer (after sending, or a thread just opened) gets the
    // focus while the panel is open.
    var composer = el.id === 'w-body' ? el : el.querySelector && el.querySelector('#w-body');
    if (open && composer) composer.focus();
  });

  // ---- read receipts ---------------------------------------------------------------
  // Agents' replies the visitor has not seen are emailed to them after a
  // while (if they left an address). A thread shown (opened, or its replies
  // arriving live) is reported here, when the visitor can see it (panel
  // open, tab visible), at most about once a second; showing the thread
  // itself is a read that moves nothing on the server.
  var readPid = '', readUpTo = 0, readTimer = null;
  var sendRead = function () {
    readTimer = null;
    var view = document.getElementById('w-thread-view');
    if (!view || !token || !open || document.visibilityState !== 'visible') return;
    var pid = view.getAttribute('data-pid') || '';
    if (pid !== readPid) { readPid = pid; readUpTo = 0; }
    var last = 0;
    view.querySelectorAll('[id^="m-"]').forEach(function (m) {
      var n = parseInt(m.id.slice(2), 10);
      if (n > last) last = n;
    });
    if (!last || last <= readUpTo) return;
    var before = readUpTo;
    readUpTo = last;
    var body = new URLSearchParams();
    body.set('up_to', String(last));
    post('/widget/conversations/' + encodeURIComponent(pid) + '/read', body).then(function (r) {
      if (!r.ok) readUpTo = before;
    }, function () { readUpTo = before; });
  };
  var readSoon = function () {
    if (!readTimer) readTimer = setTimeout(sendRead, 1000);
  };
  document.body.addEventListener('htmx:oobAfterSwap', function (e) {
    if (e.detail.target && e.detail.target.id === 'w-thread') readSoon();
  });
  document.body.addEventListener('htmx:afterSettle', function () {
    if (document.getElementById('w-thread-view')) readSoon();
  });
  document.addEventListener('visibilitychange', readSoon);
  window.addEventListener('message', function (e) {
    if (parentOrigin && e.source === window.parent && e.origin === parentOrigin && e.data && e.data.type === 'parley:open') readSoon();
  });


  // ---- typing (app/desk_typing.go; nothing is stored) ------------------------------
  // At most one signal per 2 s while the visitor writes, "stopped" after 5 s
  // idle or on send. The draft's first 100 characters go along only when the
  // desk turned the preview on (data-typing-preview). An agent's typing line
  // goes away by itself if no signal renews it.
  var typingAt = 0, typingIdle = null, typingEl = null, typingTimer = null;
  var sendTyping = function (state, draft) {
    var view = document.getElementById('w-thread-view');
    if (!view || !token) return;
    var body = new URLSearchParams();
    body.set('state', state);
    if (draft && view.hasAttribute('data-typing-preview')) body.set('draft', draft.slice(0, 100));
    post('/widget/conversations/' + encodeURIComponent(view.getAttribute('data-pid') || '') + '/typing', body).catch(function () {});
  };
  var stopTyping = function () {
    clearTimeout(typingIdle);
    if (typingAt) sendTyping('stopped');
    typingAt = 0;
  };
  document.addEventListener('input', function (e) {
    if (!e.target || e.target.id !== 'w-body') return;
    var now = Date.now(), text = e.target.value.trim();
    if (text && now - typingAt >= 2000) { typingAt = now; sendTyping('typing', text); }
    clearTimeout(typingIdle);
    typingIdle = setTimeout(stopTyping, 5000);
  });
  document.addEventListener('submit', function (e) {
    if (e.target && e.target.id === 'w-composer') stopTyping();
  }, true);
  document.body.addEventListener('htmx:sseMessage', function () {
    var el = document.getElementById('w-typing');
    if (!el || el === typingEl) return;
    typingEl = el;
    clearTimeout(typingTimer);
    if (el.hasAttribute('data-typing')) typingTimer = setTimeout(function () { el.replaceChildren(); el.removeAttribute('data-typing'); }, 8000);
  });

  // ---- pushed URLs (app/pushurl.go) ------------------------------------------------
  // The card's Open button is a plain new-tab link; opening it is reported
  // once. A push arriving live is opened at once only where the browser
  // allows a tab without a click (the visitor interacted with the frame a
  // moment ago: transient user activation); otherwise the card waits, and
  // nothing fights the popup blocker.
  var reportOpened = function (el) {
    var view = document.getElementById('w-thread-view'), id = el.getAttribute('data-push-open') || '';
    var card = el.closest('[data-push]');
    if (!view || !token || !id || (card && card.hasAttribute('data-opened'))) return;
    if (card) card.setAttribute('data-opened', '');
    post('/widget/conversations/' + encodeURIComponent(view.getAttribute('data-pid') || '') + '/links/' + encodeURIComponent(id) + '/opened')
      .then(function (r) { if (!r.ok && card) card.removeAttribute('data-opened'); },
        function () { if (card) card.removeAttribute('data-opened'); });
  };
  document.addEventListener('click', function (e) {
    var a = e.target.closest && e.target.closest('a[data-push-open]');
    if (a) reportOpened(a);
  });
  document.addEventListener('auxclick', function (e) {
    var a = e.target.closest && e.target.closest('a[data-push-open]');
    if (a && e.button === 1) reportOpened(a);
  });
  var markPushes = function (root) {
    if (root && root.querySelectorAll) root.querySelectorAll('[data-push]').forEach(function (c) { c.setAttribute('data-push-seen', ''); });
  };
  htmx.onLoad(function (el) {
    // Pushes shown with a view or an earlier page are not "arriving".
    if (el && el.id !== 'w-thread') markPushes(el.parentNode || el);
  });
  document.body.addEventListener('htmx:oobAfterSwap', function (e) {
    var t = e.detail.target;
    if (!t || t.id !== 'w-thread') return;
    t.querySelectorAll('[data-push]:not([data-push-seen])').forEach(function (card) {
      card.setAttribute('data-push-seen', '');
      var a = card.querySelector('a[data-push-open]');
      if (!a || card.hasAttribute('data-opened')) return;
      var ua = navigator.userActivation;
      if (!ua || !ua.isActive || !open) return;
      var w = null;
      try { w = window.open('about:blank', '_blank'); } catch (err) { w = null; }
      if (!w) return;
      try { w.opener = null; w.location.href = a.href; } catch (err) { return; }
      reportOpened(a);
    });
  });

  // ---- the transcript link: in the visitor's time zone (app/transcript.go) ---------
  document.addEventListener('click', function (e) {
    var a = e.target.closest && e.target.closest('a[data-tz-link]');
    if (!a) return;
    try {
      var u = new URL(a.href), tz = timeZone();
      if (tz) { u.searchParams.set('tz', tz); a.href = u.toString(); }
    } catch (err) { /* the server uses the zone the conversation started in */ }
  }, true);

  // ---- co-browsing (app/cobrowse.go) -------------------------------------------------
  // #w-cobrowse's data-state says what runs: the loader records only while
  // it is "active". Recorded events come back from the loader and are posted
  // in order, in chunks under the server's 512 KB cap; a 404 or 409 (ended,
  // another's) stops the recorder.
  var cobState = '', cobSession = '', cobQueue = [], cobBusy = false;
  var CHUNK = 400 * 1024;
  var cobSync = function () {
    var box = document.getElementById('w-cobrowse');
    var state = box ? box.getAttribute('data-state') || '' : '';
    var session = box ? box.getAttribute('data-session') || '' : '';
    if (state === cobState && session === cobSession) return;
    var was = cobState;
    cobState = state;
    cobSession = session;
    if (state === 'active') {
      toParent({ type: 'parley:cobrowse-start', session: session, viewing: box.getAttribute('data-msg-viewing'), end: box.getAttribute('data-msg-end') });
    } else {
      if (was === 'active') toParent({ type: 'parley:cobrowse-stop' });
      cobQueue = [];
      if (state === 'requested') toParent({ type: 'parley:cobrowse-ask' });
    }
  };
  var cobPid = function () {
    var v = document.getElementById('w-thread-view');
    return v ? v.getAttribute('data-pid') || '' : '';
  };
  var cobPump = function () {
    if (cobBusy || !cobQueue.length) return;
    var job = cobQueue.shift();
    cobBusy = true;
    var url = '/widget/conversations/' + encodeURIComponent(job.pid) + '/cobrowse/' + encodeURIComponent(job.session) + '/chunks';
    var headers = { 'X-Parley-Lang': lang, 'Content-Type': 'application/json' };
    if (token) headers['X-Parley-Visitor'] = token;
    fetch(url, { method: 'POST', headers: headers, body: job.body, credentials: 'omit' }).then(function (r) {
      cobBusy = false;
      if (r.status === 404 || r.status === 409) {
        cobQueue = [];
        toParent({ type: 'parley:cobrowse-stop' });
        return;
      }
      cobPump();
    }, function () { cobBusy = false; cobPump(); });
  };
  var cobEnqueue = function (session, events) {
    var pid = cobPid();
    if (!pid || session !== cobSession || cobState !== 'active') return;
    var part = [], size = 2;
    var flush = function () {
      if (part.length) cobQueue.push({ pid: pid, session: session, body: '[' + part.join(',') + ']' });
      part = [];
      size = 2;
    };
    events.forEach(function (ev) {
      var s = JSON.stringify(ev);
      if (size + s.length + 1 > CHUNK) flush();
      part.push(s);
      size += s.length + 1;
    });
    flush();
    cobPump();
  };
  window.addEventListener('message', function (e) {
    if (!parentOrigin || e.source !== window.parent || e.origin !== parentOrigin) return;
    var m = e.data || {};
    if (m.type === 'parley:cobrowse-events' && Array.isArray(m.events)) {
      cobEnqueue(m.session, m.events);
    } else if (m.type === 'parley:cobrowse-end' && m.session === cobSession) {
      var b = document.getElementById('w-cobrowse-end');
      if (b) htmx.trigger(b, 'click');
    }
  });
  document.body.addEventListener('htmx:oobAfterSwap', function (e) {
    var t = e.detail.target;
    if (!t) return;
    if (t.id === 'w-cobrowse') cobSync();
    var c = t.id === 'w-cobrowse-cmd' && document.getElementById('w-cobrowse-cmd');
    if (c && c.getAttribute('data-session') === cobSession) {
      toParent({ type: 'parley:cobrowse-cmd', session: cobSession, cmd: c.getAttribute('data-cmd'), node: parseInt(c.getAttribute('data-node'), 10) || 0, dy: parseInt(c.getAttribute('data-dy'), 10) || 0 });
    }
  });
  // A view shown (the thread with a running session, or home: nothing).
  document.body.addEventListener('htmx:afterSettle', cobSync);

  toParent(config('parley:ready'));
  if (token || open) start();
  // ---- remote support (WebRTC): static/rtc.js, fetched on first use -----------------
  // The stream's "rtc" events (a session's transitions, signal ids) and the
  // clicks on its buttons wait here until rtc.js has loaded; a page showing
  // a session in progress loads it at once.
  var rtcBoot = window.ParleyRTCBoot = { side: 'widget', queue: [], clicks: [], headers: function () { return { 'X-Parley-Visitor': token, 'X-Parley-Lang': lang }; }, toast: function (t) { toast(t); } };
  var rtcLoad = function () {
    var el = document.querySelector('[data-rtc-src]');
    if (rtcBoot.loading || window.ParleyRTC || !el) return;
    rtcBoot.loading = true;
    var s = document.createElement('script');
    s.src = el.getAttribute('data-rtc-src');
    s.onerror = function () { rtcBoot.loading = false; };
    document.head.appendChild(s);
  };
  document.addEventListener('htmx:sseBeforeMessage', function (e) {
    if (e.detail.type !== 'rtc') return;
    e.preventDefault();
    rtcBoot.queue.push(e.detail.data);
    if (window.ParleyRTC) window.ParleyRTC.drain(); else rtcLoad();
  });
  document.addEventListener('click', function (e) {
    var b = e.target.closest && e.target.closest('[data-rtc-request],[data-rtc-end],[data-rtc-accept],[data-rtc-decline],[data-rtc-mute],[data-rtc-camera]');
    if (!b || window.ParleyRTC) return;
    rtcBoot.clicks.push(b);
    rtcLoad();
  });
  htmx.onLoad(function (el) {
    if (el.querySelector && el.querySelector('[data-rtc-src][data-state]')) rtcLoad();
  });
})();

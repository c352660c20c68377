// Parley desk — behaviour of the agents' desk on top of swap.js (the part
// of htmx and htmx-ext-sse the pages use) and live.js. Loaded with `defer` after them on staff pages. No framework,
// no build; everything here is an enhancement: without it the desk still
// works with plain forms and reloads.
//
// Contract with the server (views/desk_*.templ, app/desk_events.go):
//   <textarea data-enter-sends> in a form: Enter sends, Shift+Enter adds a
//     line; a blank message is not sent.
//   <input data-filter="#list">: narrows #list's children to those with
//     what is typed (ticked ones stay).
//   #desk-unread-total[data-count]: conversations with unread messages; the
//     tab title shows it as "(3) Inbox · Parley". The stream replaces it.
//   #toasts > .desk-alert[data-alert-title][data-alert-body][data-alert-url]
//     [data-sound]: a customer started a conversation (support agents only),
//     or a notification arrived (views/notify.templ; a new conversation's
//     shares the id of its alert, so it is announced once): chime (unless
//     muted: #desk-sound[data-sound]) and desktop notification.
//   #desk-notify: offered while desktop notifications are neither allowed
//     nor refused; a click asks the browser.
//   #conv[data-conversation] with #messages: the open conversation. When the
//     stream appends messages by others ([data-from-other]) and the page is
//     visible, they are marked read (POST /conversations/<id>/read); if the
//     page is hidden, that waits until it is visible again.
//   <div hx-swap-oob="afterbegin:#inbox-rows">: the stream's list updates.
//     A row first takes out the element with its id (a move); a
//     [data-refresh-only] wrapper only replaces rows already on the page; a
//     [data-gone] tombstone just removes its row. Rows are then re-sorted by
//     data-sort, newest activity first.
//   <time datetime="…" data-ago>: a short duration since then ("< 1 min",
//     "5 min", "3 hr", "2 days"), kept current every 30 seconds.
//   [data-waiting-since][data-waiting-amber][data-waiting-red] (rows, tabs;
//     seconds): recoloured wait-green/-amber/-red every 15 s as the wait
//     grows; a reply arrives as a row or tab without them.
//   [data-sla-due][data-sla-soon][data-sla-label][data-sla-over]: a
//     service-level clock, its text and colour kept current every 15 s.
//   #conv-tabs > a: the agent's conversations; Alt+1..9 opens one. The
//     stream only refreshes tabs ([data-refresh-only], [data-gone]).
//   details[data-msg-menu]: a message's menu (copy link, panel close).
//   textarea[data-canned-script]: the composer offers canned replies; the
//     picker's script (static/canned.js) is loaded on the first '#' typed.
//   form#composer: its posts carry an Idempotency-Key, one per composed
//     message and the same on every resend of it, so a post whose answer was
//     lost (connection cut, 503) and is sent again is stored once. A failed
//     send is not swapped (app.js): the text stays in the composer.
//     What is typed there is kept per conversation in localStorage
//     ("parley:draft:<pid>") until it is sent, so a reload loses nothing.
//   #desk-search: the header's search box; "/" typed outside a field
//     focuses it (a plain GET form to /search, which works without this).
(function () {
  'use strict';

  var ALERT_MS = 10000;
  var lang = document.documentElement.lang || undefined;

  // Exposed for diagnostics (and the browser tests): how many alerts asked
  // for a chime.
  window.ParleyDesk = window.ParleyDesk || { chimes: 0 };

  // ---- composer: Enter sends, Shift+Enter adds a line ----------------------

  document.addEventListener('keydown', function (e) {
    var ta = e.target;
    if (e.key !== 'Enter' || e.shiftKey || e.altKey || e.isComposing || e.keyCode === 229) return;
    if (!ta.matches || !ta.matches('textarea[data-enter-sends]') || !ta.form) return;
    e.preventDefault();
    // Empty messages are refused (the server refuses them too), unless
    // they carry files (files.js's chips).
    if (!ta.value.trim() && !ta.form.querySelector('input[name=files]')) return;
    if (ta.form.classList.contains('htmx-request')) return; // still sending the previous one
    if (ta.form.requestSubmit) ta.form.requestSubmit(); else ta.form.submit();
  });

  // ---- a box that narrows a list as one types -----------------------------------
  // <input data-filter="#list">: the list's children whose text has what is
  // typed (any case, any accents) stay; the others hide, but never a
  // ticked one. The new teammate chat has one for a large team.
  function folded(t) { return t.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase(); }
  document.addEventListener('input', function (e) {
    var box = e.target;
    if (!box.matches || !box.matches('input[data-filter]')) return;
    var list = document.querySelector(box.getAttribute('data-filter'));
    if (!list) return;
    var q = folded(box.value.trim());
    Array.prototype.forEach.call(list.children, function (item) {
      var ticked = item.querySelector('input:checked');
      item.hidden = !!q && !ticked && folded(item.textContent).indexOf(q) < 0;
    });
  });
  // Enter in the box does not send the form half-filled.
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && e.target.matches && e.target.matches('input[data-filter]')) e.preventDefault();
  });

  // ---- "/" focuses the search box ---------------------------------------------

  var slashFocused = false;
  document.addEventListener('keydown', function (e) {
    slashFocused = false;
    if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    var t = e.target;
    if (t && (t.isContentEditable || (t.matches && t.matches('input, textarea, select')))) return;
    var box = document.getElementById('desk-search');
    if (!box) return;
    e.preventDefault();
    box.focus();
    box.select();
    slashFocused = true;
  });
  // Some input paths deliver the character separately from the keydown:
  // the slash that focused the box is not typed into it.
  document.addEventListener('keypress', function (e) {
    if (slashFocused && e.key === '/') e.preventDefault();
    slashFocused = false;
  }, true);

  // ---- composer: one idempotency key per composed message ---------------------

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
  }

  document.addEventListener('htmx:configRequest', function (e) {
    var form = e.detail.elt;
    if (e.detail.verb !== 'post' || !form || !form.matches || !form.matches('form#composer')) return;
    // Kept while the text and mode are unchanged: a resend after a failure
    // is the same message; anything edited is a new one.
    var body = form.querySelector('[name=body]');
    var kind = form.querySelector('[name=kind]:checked') || form.querySelector('input[type=hidden][name=kind]');
    var link = form.querySelector('[name=link_url]');
    var to = Array.prototype.map.call(form.querySelectorAll('[name=to]:checked'), function (b) { return b.value; }).join(',');
    var text = (body ? body.value : '') + '|' + (kind ? kind.value : '') + '|' + (link ? link.value : '') + '|' + to;
    if (!form.parleyKey || form.parleyKeyText !== text) {
      form.parleyKey = newKey();
      form.parleyKeyText = text;
    }
    e.detail.headers['Idempotency-Key'] = form.parleyKey;
  });

  // ---- composer: a draft per conversation survives a reload -------------------

  function draftKey() {
    var c = document.getElementById('conv');
    return c && c.getAttribute('data-conversation') ? 'parley:draft:' + c.getAttribute('data-conversation') : null;
  }
  function store(fn) { try { fn(window.localStorage); } catch (err) { /* storage off: no drafts */ } }
  document.addEventListener('input', function (e) {
    var ta = e.target, k = draftKey();
    if (!k || !ta.matches || !ta.matches('form#composer textarea[name=body]')) return;
    store(function (ls) { if (ta.value.trim()) ls.setItem(k, ta.value); else ls.removeItem(k); });
  });
  // Sent: forget it before the fresh composer is swapped in.
  document.addEventListener('htmx:beforeSwap', function (e) {
    var f = e.detail.elt, k = draftKey();
    if (k && f && f.matches && f.matches('form#composer') && e.detail.xhr && e.detail.xhr.status < 300) {
      store(function (ls) { ls.removeItem(k); });
    }
  });
  function restoreDraft() {
    var k = draftKey(), ta = document.querySelector('form#composer textarea[name=body]');
    if (!k || !ta || ta.value) return;
    store(function (ls) { var d = ls.getItem(k); if (d) ta.value = d; });
  }

  // ---- canned replies: the '#' picker's script, on first use -------------------
  // Loaded when a composer that offers it first gets a '#' (no page load pays
  // for it); the input that asked is replayed once it runs, so the picker
  // opens for what was typed meanwhile.
  document.addEventListener('input', function (e) {
    var ta = e.target;
    if (window.ParleyCanned || !ta.matches || !ta.matches('textarea[data-canned-script]') || ta.value.indexOf('#') < 0) return;
    if (document.getElementById('canned-js')) return;
    var s = document.createElement('script');
    s.id = 'canned-js';
    s.src = ta.getAttribute('data-canned-script');
    s.onload = function () {
      var now = document.activeElement;
      if (now && now.matches && now.matches('textarea[data-canned]')) now.dispatchEvent(new Event('input', { bubbles: true }));
    };
    s.onerror = function () { s.remove(); }; // the next '#' tries again
    document.head.appendChild(s);
  });

  // ---- tab title: "(n) Page · Parley" ----------------------------------------

  function updateTitle() {
    var el = document.getElementById('desk-unread-total');
    if (!el) return;
    var n = parseInt(el.getAttribute('data-count'), 10) || 0;
    var base = document.title.replace(/^\(\d+\+?\)\s+/, '');
    // Counting stops at 100 (models.UnreadCap): show "99+" from there.
    var shown = n >= 100 ? '99+' : String(n);
    var title = n > 0 ? '(' + shown + ') ' + base : base;
    if (document.title !== title) document.title = title;
  }

  // ---- chime: two short sine notes from WebAudio (no audio file) ------------

  // Browsers only let a page play sound after the user interacted with it:
  // the audio context is made on the first click or key press (boosted
  // navigation keeps it for the next pages).
  var audio = null;
  function unlock() {
    var AC = window.AudioContext || window.webkitAudioContext;
    if (AC && !audio) audio = new AC();
    if (audio && audio.state === 'suspended') audio.resume().catch(function () {});
    document.removeEventListener('pointerdown', unlock, true);
    document.removeEventListener('keydown', unlock, true);
  }
  document.addEventListener('pointerdown', unlock, true);
  document.addEventListener('keydown', unlock, true);

  function chime() {
    window.ParleyDesk.chimes++;
    var a = audio;
    if (!a) return; // no interaction yet: the browser would refuse to play
    if (a.state === 'suspended') a.resume().catch(function () {});
    var t0 = a.currentTime + 0.01;
    [[880, 0], [1318.5, 0.13]].forEach(function (note) {
      var osc = a.createOscillator(), gain = a.createGain(), at = t0 + note[1];
      osc.type = 'sine';
      osc.frequency.value = note[0];
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.18, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.45);
      osc.connect(gain);
      gain.connect(a.destination);
      osc.start(at);
      osc.stop(at + 0.5);
    });
  }

  function soundOn(alert) {
    var toggle = document.getElementById('desk-sound'); // this tab's latest choice wins
    var v = toggle ? toggle.getAttribute('data-sound') : alert.getAttribute('data-sound');
    return v === 'true';
  }

  // ---- desktop notifications -------------------------------------------------

  function canNotify() { return 'Notification' in window; }

  function offerNotifications() {
    var btn = document.getElementById('desk-notify');
    if (btn) btn.hidden = !canNotify() || Notification.permission !== 'default';
  }

  document.addEventListener('click', function (e) {
    if (!e.target.closest || !e.target.closest('#desk-notify') || !canNotify()) return;
    var p = Notification.requestPermission(offerNotifications); // old Safari: callback
    if (p && p.then) p.then(offerNotifications);
  });

  function notify(title, body, url) {
    if (!canNotify() || Notification.permission !== 'granted') return;
    if (document.visibilityState === 'visible' && document.hasFocus()) return; // the toast is enough
    try {
      var n = new Notification(title, { body: body, tag: url });
      n.onclick = function () { window.focus(); window.location.assign(url); n.close(); };
    } catch (err) { /* some browsers only allow notifications from a service worker */ }
  }

  // ---- new-conversation alerts -------------------------------------------------

  // Alerts already announced during this page's life: a stream that replays
  // after a reconnect must not chime twice. Boosted navigation keeps it.
  var announced = {};

  function dismiss(toast) {
    toast.classList.add('leaving');
    setTimeout(function () { toast.remove(); }, 220);
  }

  function handleAlerts() {
    document.querySelectorAll('#toasts > .desk-alert:not([data-announced])').forEach(function (t) {
      t.setAttribute('data-announced', '');
      if (announced[t.id]) { t.remove(); return; }
      announced[t.id] = true;
      if (soundOn(t)) chime();
      notify(t.getAttribute('data-alert-title'), t.getAttribute('data-alert-body'), t.getAttribute('data-alert-url'));
      var timer = setTimeout(function () { dismiss(t); }, ALERT_MS);
      t.addEventListener('mouseenter', function () { clearTimeout(timer); });
      t.addEventListener('mouseleave', function () { timer = setTimeout(function () { dismiss(t); }, ALERT_MS / 2); });
    });
  }

  // ---- the open conversation: mark read, follow own messages ------------------

  var readPending = false, ownArrived = false;

  function openConversation() {
    var c = document.getElementById('conv');
    return c && c.getAttribute('data-conversation');
  }

  function markRead() {
    var id = openConversation();
    if (!id || !readPending || document.visibilityState !== 'visible' || !window.htmx) return;
    readPending = false;
    htmx.ajax('POST', '/conversations/' + encodeURIComponent(id) + '/read', { target: '#conv', swap: 'none' });
  }

  document.addEventListener('visibilitychange', markRead);

  // live.js's listener (registered first) has already cancelled duplicates.
  document.addEventListener('htmx:oobBeforeSwap', function (e) {
    var t = e.detail.target, frag = e.detail.fragment;
    if (!t || t.id !== 'messages' || !e.detail.shouldSwap || !frag || !frag.querySelector) return;
    if (frag.querySelector('[data-from-other]')) readPending = true;
    if (frag.querySelector('.msg:not([data-from-other])')) ownArrived = true;
  });

  // ---- message menu (views.MessageMenu) ----------------------------------------
  // Choosing an item closes the menu; [data-copy-link] copies the message's
  // absolute URL; [data-msg-panel-close] empties the message's panel.
  document.addEventListener('click', function (e) {
    var el = e.target.closest && e.target.closest('.msg-menu-item, [data-msg-panel-close]');
    if (!el) return;
    var menu = el.closest('details[data-msg-menu]');
    if (menu) menu.open = false;
    if (el.hasAttribute('data-msg-panel-close')) el.closest('.msg-panel').textContent = '';
    if (!el.hasAttribute('data-copy-link')) return;
    var url = new URL(el.getAttribute('data-copy-link'), location.href).href;
    var done = function () { htmx.trigger(document.body, 'toast', { level: 'success', message: el.getAttribute('data-copied') }); };
    var fallback = function () {
      var ta = document.body.appendChild(document.createElement('textarea'));
      ta.value = url;
      ta.select();
      if (document.execCommand('copy')) done();
      ta.remove();
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(url).then(done, fallback); else fallback();
  });

  // An open menu closes on Escape or a click elsewhere.
  function closeMenus(except) {
    document.querySelectorAll('details[data-msg-menu][open]').forEach(function (d) { if (d !== except) d.open = false; });
  }
  document.addEventListener('click', function (e) { closeMenus(e.target.closest && e.target.closest('details[data-msg-menu]')); });
  document.addEventListener('keydown', function (e) {
    var open = e.key === 'Escape' && e.target.closest && e.target.closest('details[data-msg-menu][open]');
    if (!open) return;
    open.open = false;
    open.querySelector('summary').focus();
  });

  // A message's link (#msg-<id>) shows that message, not the thread's end.
  document.addEventListener('DOMContentLoaded', function () {
    var m = /^#msg-\d+$/.test(location.hash) && document.getElementById(location.hash.slice(1));
    if (m) m.scrollIntoView({ block: 'center' });
  });

  // ---- lists: rows in and out, in order ---------------------------------------

  // Capture phase: runs before live.js's duplicate check (a bubbling
  // listener), so a moved row is not mistaken for one already shown.
  document.addEventListener('htmx:oobBeforeSwap', function (e) {
    var t = e.detail.target, frag = e.detail.fragment;
    if (!t || (t.id !== 'inbox-rows' && t.id !== 'conv-tabs') || !frag || !frag.children) return;
    var refreshOnly = frag.hasAttribute && frag.hasAttribute('data-refresh-only');
    Array.prototype.slice.call(frag.children).forEach(function (el) {
      var old = el.id && document.getElementById(el.id);
      if (refreshOnly) {
        if (old) {
          old.replaceWith(el);
          if (window.htmx) htmx.process(el); // boosted links
        } else {
          el.remove();
        }
      } else if (old) {
        old.remove();
      }
    });
    if (refreshOnly) e.detail.shouldSwap = false;
  }, true);


  function sortRows(box) {
    var rows = Array.prototype.slice.call(box.children);
    var sorted = rows.slice().sort(function (a, b) {
      var x = a.getAttribute('data-sort') || '', y = b.getAttribute('data-sort') || '';
      return x < y ? 1 : x > y ? -1 : 0;
    });
    for (var i = 0; i < rows.length; i++) {
      if (rows[i] !== sorted[i]) {
        sorted.forEach(function (r) { box.appendChild(r); });
        return;
      }
    }
  }

  // ---- durations ("5 min") -----------------------------------------------------

  function durationText(ms) {
    var s = Math.max(0, ms / 1000);
    try {
      var minute = function (n) { return new Intl.NumberFormat(lang, { style: 'unit', unit: 'minute', unitDisplay: 'short' }).format(n); };
      if (s < 60) return '< ' + minute(1);
      var unit = s < 3600 ? ['minute', s / 60] : s < 172800 ? ['hour', s / 3600] : ['day', s / 86400];
      return new Intl.NumberFormat(lang, { style: 'unit', unit: unit[0], unitDisplay: 'short' }).format(Math.floor(unit[1]));
    } catch (err) {
      return null; // keep the server's text
    }
  }

  // The desk's clock. clockOffset is for the browser tests alone, which move
  // time forward instead of waiting minutes.
  function now() { return Date.now() + (window.ParleyDesk.clockOffset || 0); }

  function refreshDurations(root) {
    (root || document).querySelectorAll('time[data-ago]').forEach(function (el) {
      var d = new Date(el.getAttribute('datetime'));
      if (isNaN(d)) return;
      var text = durationText(now() - d.getTime());
      if (text && el.textContent !== text) el.textContent = text;
    });
  }
  setInterval(refreshDurations, 30000);

  // ---- waiting colours (thresholds from the server, views/waiting.templ) -----

  function recolour() {
    document.querySelectorAll('[data-waiting-since]').forEach(function (el) {
      var waited = (now() - new Date(el.getAttribute('data-waiting-since')).getTime()) / 1000;
      if (isNaN(waited)) return;
      var level = waited >= +el.getAttribute('data-waiting-red') ? 'red'
        : waited >= +el.getAttribute('data-waiting-amber') ? 'amber' : 'green';
      ['green', 'amber', 'red'].forEach(function (l) { el.classList.toggle('wait-' + l, l === level); });
    });
  }
  // Service-level clocks (views/sla.templ): time left until due, then
  // overdue by; "soon" in the last share of the target.
  function refreshClocks() {
    document.querySelectorAll('[data-sla-due]').forEach(function (el) {
      var left = (new Date(el.getAttribute('data-sla-due')).getTime() - now()) / 1000;
      if (isNaN(left)) return;
      var level = left <= 0 ? 'over' : left <= +el.getAttribute('data-sla-soon') ? 'soon' : 'ok';
      ['ok', 'soon', 'over'].forEach(function (l) { el.classList.toggle('sla-' + l, l === level); });
      var label = el.querySelector('.sla-label');
      var text = el.getAttribute(level === 'over' ? 'data-sla-over' : 'data-sla-label');
      if (label && text && label.textContent !== text) label.textContent = text;
      var t = el.querySelector('time[data-sla-left]');
      var d = t && durationText(Math.abs(left) * 1000);
      if (d && t.textContent !== d) t.textContent = d;
    });
  }
  setInterval(function () { recolour(); refreshClocks(); }, 15000);
  window.ParleyDesk.tick = function () { recolour(); refreshClocks(); refreshDurations(document); };

  // Alt+1..9: the agent's n-th tab (by key position, so layouts where Alt
  // makes another character still work).
  function labelTabs() {
    document.querySelectorAll('#conv-tabs > a.conv-tab').forEach(function (a, i) {
      if (i < 9) a.setAttribute('aria-keyshortcuts', 'Alt+' + (i + 1));
    });
  }
  document.addEventListener('keydown', function (e) {
    if (!e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    var m = /^Digit([1-9])$/.exec(e.code || '');
    var tab = m && document.querySelectorAll('#conv-tabs > a.conv-tab')[m[1] - 1];
    if (!tab) return;
    e.preventDefault();
    tab.click();
  });


  // ---- typing, presence, "Seen" (app/desk_typing.go; nothing is stored) -------
  // At most one typing signal per 2 s while the agent writes a reply (never a
  // note or a private message), "stopped" after 5 s idle or on send; a viewing heartbeat every 20 s
  // while a conversation is open, "left" when it closes.

  var typingAt = 0, typingIdle = null, viewingConv = '', typingTimer = null;

  function signal(id, path, values, keepalive) {
    if (!id) return;
    var url = '/conversations/' + encodeURIComponent(id) + '/' + path;
    if (keepalive || !window.htmx) {
      var meta = document.getElementById('page-meta');
      fetch(url, { method: 'POST', keepalive: true, credentials: 'same-origin', body: new URLSearchParams(values),
        headers: { 'X-CSRF-Token': (meta && meta.getAttribute('data-csrf-token')) || '' } }).catch(function () {});
      return;
    }
    htmx.ajax('POST', url, { target: '#conv', swap: 'none', values: values });
  }

  function replying(form) {
    var k = form.querySelector('input[name="kind"]:checked');
    return !k || k.value === 'message';
  }

  function stopTyping() {
    clearTimeout(typingIdle);
    typingIdle = null;
    if (typingAt) signal(openConversation(), 'typing', { state: 'stopped' });
    typingAt = 0;
  }

  document.addEventListener('input', function (e) {
    var ta = e.target;
    if (!ta || ta.id !== 'f-body' || !ta.form || !replying(ta.form)) return;
    var now = Date.now();
    if (now - typingAt >= 2000 && ta.value.trim() !== '') {
      typingAt = now;
      signal(openConversation(), 'typing', { state: 'typing' });
    }
    clearTimeout(typingIdle);
    typingIdle = setTimeout(stopTyping, 5000);
  });
  document.addEventListener('submit', function (e) {
    if (e.target && e.target.id === 'composer') stopTyping();
  }, true);

  function viewing() {
    var id = openConversation() || '';
    if (viewingConv && viewingConv !== id) signal(viewingConv, 'viewing', { state: 'left' });
    viewingConv = id;
    if (id && document.visibilityState === 'visible') signal(id, 'viewing', { state: 'viewing' });
  }
  setInterval(viewing, 20000);
  window.addEventListener('pagehide', function () {
    if (viewingConv) signal(viewingConv, 'viewing', { state: 'left' }, true);
  });

  // The typing line goes away by itself if no signal renews it. Out-of-band
  // replacements fire their events on the detached old element, so this
  // looks after every stream message instead.
  var typingEl = null;
  document.addEventListener('htmx:sseMessage', function () {
    var el = document.getElementById('conv-typing');
    if (el && el !== typingEl) {
      typingEl = el;
      clearTimeout(typingTimer);
      if (el.hasAttribute('data-typing')) typingTimer = setTimeout(function () { el.replaceChildren(); el.removeAttribute('data-typing'); }, 8000);
    }
    placeSeen();
  });

  // "Seen" goes under the newest team reply the customer has read.
  function placeSeen() {
    var seen = document.getElementById('conv-seen'), list = document.getElementById('messages');
    if (!seen || !list) return;
    var upTo = parseInt(seen.getAttribute('data-upto'), 10) || 0, at = null;
    list.querySelectorAll('article.msg-out:not(.msg-note):not(.msg-private)').forEach(function (m) {
      if (parseInt(m.id.slice(4), 10) <= upTo) at = m;
    });
    if (at) { at.appendChild(seen); seen.hidden = false; } else seen.hidden = true;
  }

  // ---- transcripts: in the reader's time zone (transcript.go) -------------------
  document.addEventListener('click', function (e) {
    var a = e.target.closest && e.target.closest('a[data-tz-link]');
    if (!a) return;
    try {
      var u = new URL(a.href), tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (tz) { u.searchParams.set('tz', tz); a.href = u.toString(); }
    } catch (err) { /* the server writes UTC */ }
  }, true);

  // ---- wiring ------------------------------------------------------------------

  document.addEventListener('htmx:oobAfterSwap', function (e) {
    var t = e.detail.target;
    if (t && t.id === 'inbox-rows') {
      t.querySelectorAll(':scope > [data-gone]').forEach(function (el) { el.remove(); });
      sortRows(t);
    }
    if (t && t.id === 'conv-tabs') {
      t.querySelectorAll(':scope > [data-gone]').forEach(function (el) { el.remove(); });
    }
    if (t && t.id === 'messages') placeSeen();
    if (t && t.id === 'messages' && ownArrived) {
      ownArrived = false;
      t.scrollTop = t.scrollHeight; // the agent's own message: always show it
    }
    updateTitle();
    handleAlerts();
    markRead();
    refreshDurations(document);
    recolour();
    labelTabs();
  });

  // A click in the list keeps the list on the page (the response leaves it
  // out: hx-preserve); its current row follows the open conversation.
  function markCurrentRow() {
    var pid = openConversation();
    if (!pid) return;
    document.querySelectorAll('#inbox-rows > .inbox-row').forEach(function (r) {
      var on = r.id === 'row-' + pid;
      r.classList.toggle('is-current', on);
      if (on) r.setAttribute('aria-current', 'true'); else r.removeAttribute('aria-current');
    });
  }

  function pageReady() {
    markCurrentRow();
    placeSeen();
    if ((openConversation() || '') !== viewingConv) viewing();
    updateTitle();
    offerNotifications();
    refreshDurations(document);
    recolour();
    labelTabs();
    restoreDraft();
  }
  document.addEventListener('DOMContentLoaded', pageReady);
  document.addEventListener('htmx:afterSettle', pageReady); // boosted navigation brings a new page

  // ---- co-browsing (app/cobrowse.go) ------------------------------------------------
  // "Open viewer" frames the viewer page, which alone loads rrweb's replayer
  // (and has its own CSP); new chunks announced on the stream
  // (#cobrowse-feed, ids only) are passed to it. A tab that asked opens the
  // viewer by itself once the customer allows it.
  var cobAsked = '';
  var cobOpen = function (url) {
    var box = document.getElementById('cobrowse-viewer');
    if (!box || !url) return;
    var f = box.querySelector('iframe');
    if (f && f.getAttribute('src') === url) return;
    box.textContent = '';
    f = document.createElement('iframe');
    f.className = 'cobrowse-frame';
    f.title = (document.getElementById('cobrowse-open') || {}).textContent || 'Co-browsing';
    f.src = url;
    box.appendChild(f);
    box.hidden = false;
  };
  document.addEventListener('click', function (e) {
    var b = e.target.closest && e.target.closest('[data-cobrowse-open]');
    if (b) cobOpen(b.getAttribute('data-cobrowse-open'));
  });
  document.addEventListener('submit', function (e) {
    if (e.target.closest && e.target.closest('#cobrowse-panel') && e.target.querySelector('#cobrowse-request')) {
      cobAsked = (document.getElementById('cobrowse-panel') || {}).getAttribute('data-conv') || '';
    }
  }, true);
  document.addEventListener('htmx:oobAfterSwap', function (e) {
    var t = e.detail.target;
    if (!t) return;
    var box = document.getElementById('cobrowse-viewer');
    if (t.id === 'cobrowse-feed') {
      var f = box && box.querySelector('iframe'), feed = document.getElementById('cobrowse-feed');
      if (f && f.contentWindow && feed) f.contentWindow.postMessage({ type: 'parley:cobrowse-chunk', session: feed.getAttribute('data-session') }, location.origin);
    }
    if (t.id === 'cobrowse-panel') {
      var p = document.getElementById('cobrowse-panel'), open = document.getElementById('cobrowse-open');
      if (p && p.getAttribute('data-state') !== 'active' && box) {
        box.textContent = '';
        box.hidden = true;
      } else if (open && cobAsked && cobAsked === p.getAttribute('data-conv')) {
        cobAsked = '';
        cobOpen(open.getAttribute('data-cobrowse-open'));
      }
    }
  });

  // [data-copy="#input"]: copies that field's value (a support session's
  // join link) and says so on the button for a moment.
  document.addEventListener('click', function (e) {
    var b = e.target.closest && e.target.closest('[data-copy]');
    if (!b) return;
    var field = document.querySelector(b.getAttribute('data-copy'));
    if (!field) return;
    var label = b.textContent;
    var said = function () {
      b.textContent = b.getAttribute('data-copied') || label;
      setTimeout(function () { b.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(said, function () { field.select(); });
    } else {
      field.select();
      try { document.execCommand('copy'); said(); } catch (_) { /* selected: the agent copies it */ }
    }
  });
  // ---- remote support (WebRTC): static/rtc.js, fetched on first use -----------------
  // The stream's "rtc" events (a session's transitions, signal ids) and the
  // clicks on its buttons wait here until rtc.js has loaded; a page showing
  // a session in progress loads it at once.
  var rtcBoot = window.ParleyRTCBoot = { side: 'desk', queue: [], clicks: [], headers: function () {
    var meta = document.getElementById('page-meta');
    return { 'X-CSRF-Token': (meta && meta.getAttribute('data-csrf-token')) || '' };
  } };
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
    var b = e.target.closest && e.target.closest('[data-rtc-request],[data-rtc-end],[data-rtc-accept],[data-rtc-decline],[data-rtc-mute],[data-rtc-camera],[data-rtc-join]');
    if (!b || window.ParleyRTC) return;
    rtcBoot.clicks.push(b);
    rtcLoad();
  });
  htmx.onLoad(function (el) {
    if (el.querySelector && el.querySelector('[data-rtc-src][data-state]')) rtcLoad();
  });
})();

// ---- knowledge-base article picker (views.ArticlePicker) ----------------------
// [data-close-picker="<id>"] empties that picker; Escape inside it does too.
(function () {
  function close(id) {
    var el = document.getElementById(id);
    if (el) el.textContent = '';
    var btn = document.getElementById('article-button');
    if (btn) btn.focus();
  }
  document.addEventListener('click', function (e) {
    var el = e.target.closest && e.target.closest('[data-close-picker]');
    if (el) close(el.getAttribute('data-close-picker'));
  });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && e.target.closest && e.target.closest('#article-picker')) close('article-picker');
  });
})();

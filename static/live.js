// Parley live updates: the glue between the SSE extension (swap.js's copy
// of htmx-ext-sse) and Parley's streams, shared by the desk and the widget.
// Loaded with `defer` after swap.js. No framework, no build.
//
// Contract with the server (app/sse.go):
//   <div hx-ext="sse" sse-connect="/…/events?since=N" sse-swap="update" hx-swap="none">
//   event "update": HTML made of hx-swap-oob fragments; the last event of a
//     batch carries the resume position as its id.
//   event "sync":   heartbeat carrying the resume position.
//   event "reload": the client is too far behind; reload the page.
//   Appended items (messages, rows) carry ids, so a replay after a reconnect
//   never shows anything twice.
//   <time datetime="…Z" data-local="time|datetime|date|auto"> is shown in the
//   viewer's time zone and language.
(function () {
  'use strict';

  // ---- resume after a reconnect -------------------------------------------
  // The browser resends Last-Event-ID when it reconnects by itself; when the
  // extension has to open a new EventSource (after an HTTP error) we pass the
  // last id we saw as a parameter instead.
  var lastIds = {};
  function baseURL(url) {
    return url.replace(/([?&])last_event_id=[^&]*(&|$)/, '$1').replace(/[?&]$/, '');
  }
  htmx.createEventSource = function (url) {
    var base = baseURL(url), full = base;
    if (lastIds[base]) full += (base.indexOf('?') < 0 ? '?' : '&') + 'last_event_id=' + encodeURIComponent(lastIds[base]);
    var es = new EventSource(full);
    var track = function (ev) { if (ev.lastEventId) lastIds[base] = ev.lastEventId; };
    es.addEventListener('update', track);
    es.addEventListener('sync', track);
    es.addEventListener('reload', function () { es.close(); reload(); });
    return es;
  };

  // ---- reload, unless the page is being left ------------------------------
  // A stream ends with "reload" when its viewer's access changed — signing
  // out included. The tab that signs out (or changes its password, which
  // ends its sessions) hears it while its own navigation is under way, and a
  // reload then would cancel that navigation. The page that follows has a
  // fresh stream; only if the navigation fails is the reload still due.
  var leaving = false, reloadDue = false;
  function reload() {
    if (leaving) { reloadDue = true; return; }
    window.location.reload();
  }
  document.addEventListener('submit', function (e) { if (!e.defaultPrevented) leaving = true; });
  window.addEventListener('beforeunload', function () { leaving = true; });
  document.addEventListener('htmx:beforeRequest', function (e) { if (e.detail.boosted) leaving = true; });
  document.addEventListener('htmx:afterRequest', function (e) {
    // After the swap, which closed the old page's streams.
    if (!e.detail.boosted || !leaving) return;
    var due = reloadDue;
    leaving = false;
    reloadDue = false;
    if (due && !e.detail.successful) window.location.reload();
  });

  // ---- no duplicates ------------------------------------------------------
  // For append-style out-of-band swaps htmx hands us the wrapper element whose
  // children will be inserted. Drop the children already on the page (rendered
  // with it, or delivered before a reconnect: a replay may carry them along
  // with new ones), and skip the swap if nothing new is left.
  // A [data-replace-only] wrapper (edited or deleted messages) replaces
  // the items already on the page and drops the others.
  document.addEventListener('htmx:oobBeforeSwap', function (e) {
    var frag = e.detail.fragment;
    if (!frag || frag instanceof DocumentFragment || !frag.children || !frag.children.length) return;
    if (frag.hasAttribute('data-replace-only')) {
      Array.prototype.slice.call(frag.children).forEach(function (child) {
        var old = child.id && document.getElementById(child.id);
        if (!old) { child.remove(); return; }
        old.replaceWith(child);
        htmx.process(child);
        localTimes(child);
      });
      e.detail.shouldSwap = false;
      return;
    }
    Array.prototype.slice.call(frag.children).forEach(function (child) {
      if (child.id && document.getElementById(child.id)) frag.removeChild(child);
    });
    if (!frag.children.length) e.detail.shouldSwap = false;
  });

  // ---- keep threads scrolled to the newest message ---------------------------
  var pinned = new WeakMap();
  document.addEventListener('htmx:oobBeforeSwap', function (e) {
    var t = e.detail.target;
    if (t && t.hasAttribute && t.hasAttribute('data-autoscroll')) {
      pinned.set(t, t.scrollHeight - t.scrollTop - t.clientHeight < 120);
    }
  });
  document.addEventListener('htmx:oobAfterSwap', function (e) {
    var t = e.detail.target;
    if (t && pinned.get(t)) t.scrollTop = t.scrollHeight;
    localTimes(t || document);
  });
  // A thread stays at its newest message while the reader is there; one
  // who scrolled up to read keeps their place when messages arrive or any
  // other part of the page is swapped. A scroll event records which it is
  // (data-pinned: "1" at the bottom, "" scrolled up); a thread not scrolled
  // yet (a new page) counts as at the bottom.
  function atBottom(t) { return t.scrollHeight - t.scrollTop - t.clientHeight < 40; }
  document.addEventListener('scroll', function (e) {
    var t = e.target;
    if (t && t.hasAttribute && t.hasAttribute('data-autoscroll')) t.setAttribute('data-pinned', atBottom(t) ? '1' : '');
  }, true);
  function scrollThreads() {
    document.querySelectorAll('[data-autoscroll]').forEach(function (t) {
      if (t.getAttribute('data-pinned') !== '') t.scrollTop = t.scrollHeight;
    });
  }
  // An earlier page ([data-earlier] link swapped for older messages) keeps
  // the reader where they were: the message that headed the thread stays
  // where it was on screen.
  var kept = null;
  function offsetIn(el, t) { return el.getBoundingClientRect().top - t.getBoundingClientRect().top; }
  document.addEventListener('htmx:beforeSwap', function (e) {
    var el = e.detail.elt, t = el && el.hasAttribute && el.hasAttribute('data-earlier') && el.closest('[data-autoscroll]');
    var first = t && e.detail.shouldSwap && el.nextElementSibling;
    if (first) kept = { t: t, first: first, at: offsetIn(first, t) };
  });

  // ---- local times -----------------------------------------------------------
  var lang = document.documentElement.lang || undefined;
  var formats = {
    time: { hour: '2-digit', minute: '2-digit' },
    date: { year: 'numeric', month: 'short', day: 'numeric' },
    datetime: { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }
  };
  function localTimes(root) {
    if (!root || !root.querySelectorAll) return;
    root.querySelectorAll('time[data-local]').forEach(function (el) {
      var d = new Date(el.getAttribute('datetime'));
      if (isNaN(d)) return;
      var kind = el.getAttribute('data-local'), now = new Date();
      // "auto" (the widget's one format): the time alone today, else day and time.
      if (kind === 'auto') kind = d.toDateString() === now.toDateString() ? 'time' : 'datetime';
      var f = formats[kind] || formats.datetime;
      try {
        el.textContent = new Intl.DateTimeFormat(lang, f).format(d);
        el.title = new Intl.DateTimeFormat(lang, { dateStyle: 'full', timeStyle: 'short' }).format(d);
      } catch (err) { /* keep the server's text */ }
    });
  }

  document.addEventListener('DOMContentLoaded', function () { localTimes(document); scrollThreads(); });
  document.addEventListener('htmx:afterSwap', function (e) {
    if (!kept) { localTimes(e.detail.target); scrollThreads(); return; }
    var k = kept, seen = {};
    // A message the stream appended before its page was loaded is kept
    // where the page puts it (the first in the thread).
    k.t.querySelectorAll('[id]').forEach(function (el) { if (seen[el.id]) el.remove(); else seen[el.id] = 1; });
    if (k.first.isConnected) k.t.scrollTop += offsetIn(k.first, k.t) - k.at;
    localTimes(k.t);
    setTimeout(function () { if (kept === k) kept = null; });
  });
})();

// Parley notifications — the bell's popover. Loaded with `defer` after swap.js
// (htmx's API) on staff pages. Without it the bell is a plain link to /notifications.
//
// Contract with the server (views/notify.templ, app/desk_events_notify.go):
//   a#nav-bell[aria-controls=notif-panel]: a click (without modifier keys)
//     opens #notif-panel and loads GET /notifications/panel into it; another
//     click, Escape or a click elsewhere closes it.
//   #nav-notif-count: the unread count; the stream replaces it. When it
//     changes while the panel is open, the panel reloads.
//   Alerts for new notifications arrive as #toasts > .desk-alert and are
//   handled by desk.js (chime, desktop notification), like new-conversation
//   alerts.
(function () {
  'use strict';

  function panel() { return document.getElementById('notif-panel'); }
  function bell() { return document.getElementById('nav-bell'); }

  function load() {
    var p = panel();
    if (!p || !window.htmx) return;
    htmx.ajax('GET', '/notifications/panel', { target: p, swap: 'innerHTML' });
  }

  // Beside the bell (the sidebar), or below it when there is no room (the
  // narrow layout's top bar). CSSOM styles are allowed by the CSP.
  function place(p, b) {
    var r = b.getBoundingClientRect(), w = p.offsetWidth, h = p.offsetHeight, vw = window.innerWidth, vh = window.innerHeight;
    var left, top;
    if (r.right + 8 + w <= vw) {
      left = r.right + 8;
      top = Math.max(8, Math.min(r.top, vh - h - 8));
    } else {
      left = Math.max(8, Math.min(r.left, vw - w - 8));
      top = r.bottom + 4;
    }
    p.style.left = left + 'px';
    p.style.top = top + 'px';
  }

  function open() {
    var p = panel(), b = bell();
    if (!p || !b) return;
    // Out of the sidebar: it is sticky, a stacking context the page's own
    // sticky headers would cover. (Boosted navigation replaces the body and
    // brings a fresh panel in the nav.)
    if (p.parentNode !== document.body) document.body.appendChild(p);
    p.hidden = false;
    place(p, b);
    b.setAttribute('aria-expanded', 'true');
    load();
  }

  function close() {
    var p = panel(), b = bell();
    if (!p || p.hidden) return;
    p.hidden = true;
    if (b) b.setAttribute('aria-expanded', 'false');
  }

  document.addEventListener('click', function (e) {
    if (!e.target.closest) return;
    var b = e.target.closest('#nav-bell');
    if (b) {
      if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || !window.htmx) return; // a new tab: the page
      e.preventDefault();
      e.stopPropagation(); // not a boosted navigation
      if (panel() && panel().hidden) open(); else close();
      return;
    }
    if (!e.target.closest('#notif-panel')) close();
    else if (e.target.closest('a[href]')) close(); // following an entry
  }, true);

  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && panel() && !panel().hidden) {
      close();
      if (bell()) bell().focus();
    }
  });

  document.addEventListener('htmx:afterSwap', function (e) {
    var p = panel(), b = bell();
    if (p && b && e.detail.target === p && !p.hidden) place(p, b);
  });
  window.addEventListener('resize', close);

  document.addEventListener('htmx:oobAfterSwap', function (e) {
    var t = e.detail.target;
    if (t && t.id === 'nav-notif-count' && panel() && !panel().hidden) load();
  });
})();

// Parley staff desk — small progressive enhancements on top of swap.js (the
// part of htmx 2 the pages use). Loaded with `defer` after it on every staff
// page. No framework, no build.
//
// Contract with the server:
//   <div id="page-meta" hidden data-csrf-token="…" data-msg-network-error="…" data-msg-server-error="…">
//     inside <body>: boosted navigation swaps only the body, so values kept in
//     <head> would go stale after sign-in (new CSRF token) or a language change.
//     The token is sent as X-CSRF-Token on every htmx request; the messages are
//     the toast texts for a request that cannot be sent / an error without a toast.
//     <meta name="…" content="…"> tags with the same names are the fallback.
//   HX-Trigger: {"toast":{"level":"error|success|info","message":"…"}}
//   <div id="toasts" aria-live="polite"> with optional server-rendered
//     <div class="toast toast-success" data-autodismiss>…</div>
//   <select data-autosubmit>  submits its form on change
//   <select data-options="url">  holds its current choice; the first pointer
//     over it, touch or focus loads its whole list of <option>s from url
//     (?selected=<its value>)
//   <form data-confirm="…">   (or a submit button with data-confirm) asks confirm() first
//   <button data-copy="#field" data-copied="…">  copies the field's text, then toasts
(function () {
  'use strict';

  var TOAST_MS = 5000, LEVELS = { error: 1, success: 1, info: 1 };

  function meta(name) {
    var box = document.getElementById('page-meta');
    if (box && box.hasAttribute('data-' + name)) return box.getAttribute('data-' + name);
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.content : '';
  }

  // ---- toasts ------------------------------------------------------------

  function toastContainer() {
    var box = document.getElementById('toasts');
    if (!box) { // pages should render it; create one rather than lose a message
      box = document.body.appendChild(document.createElement('div'));
      box.id = 'toasts';
      box.setAttribute('aria-live', 'polite');
    }
    return box;
  }

  function dismiss(toast) {
    if (toast.classList.contains('leaving')) return;
    toast.classList.add('leaving');
    // Remove after the CSS fade; a timer, not transitionend, so it also
    // happens with reduced motion or when the element is not rendered.
    setTimeout(function () { toast.remove(); }, 220);
  }

  // Dismiss after TOAST_MS, but not while the pointer is over the toast
  // (someone is reading it); the clock restarts when the pointer leaves.
  function autoDismiss(toast) {
    var timer, arm = function () { timer = setTimeout(function () { dismiss(toast); }, TOAST_MS); };
    arm();
    toast.addEventListener('mouseenter', function () { clearTimeout(timer); });
    toast.addEventListener('mouseleave', arm);
  }

  function showToast(level, message) {
    if (!message) return;
    var toast = document.createElement('div');
    toast.className = 'toast toast-' + (LEVELS[level] ? level : 'info');
    toast.textContent = String(message); // server text: never innerHTML
    toastContainer().appendChild(toast);
    autoDismiss(toast);
  }

  // Servers send {"toast":{"level":…,"message":…}} in HX-Trigger; htmx turns
  // it into a `toast` event on the requesting element, which bubbles here.
  // {"toast":"text"} arrives as detail.value and is shown as info.
  var toasted = false; // did the response being handled carry its own toast?
  document.body.addEventListener('toast', function (e) {
    var d = e.detail || {};
    toasted = true;
    showToast(d.level, d.message != null ? d.message : d.value);
  });

  // Delegated so it covers server-rendered and script-created toasts alike.
  document.addEventListener('click', function (e) {
    var toast = e.target.closest && e.target.closest('#toasts > .toast');
    if (toast) dismiss(toast);
  });

  // ---- htmx --------------------------------------------------------------

  if (window.htmx) {
    // 422 = validation failed: swap the re-rendered form (with its errors) into
    // the normal target, but still flag it as an error. Other 4xx/5xx are not
    // swapped (a stack trace or error page must not land inside a table row);
    // the user gets a toast instead, see htmx:responseError below.
    htmx.config.responseHandling = [
      { code: '204', swap: false },
      { code: '[23]..', swap: true },
      { code: '422', swap: true, error: true },
      { code: '[45]..', swap: false, error: true },
      { code: '...', swap: false }
    ];
    // htmx would otherwise inject an inline <style> for .htmx-indicator, which
    // a strict CSP blocks; app.css carries the same rules. (Deferred scripts run
    // before DOMContentLoaded, which is when htmx inserts that style.)
    htmx.config.includeIndicatorStyles = false;
  }

  // Runs for the initial page and again for everything htmx swaps in (the body
  // is hx-boost'ed, so a navigation brings a new #toasts and a new nav).
  function enhance(root) {
    var toasts = root.matches('#toasts > .toast') ? [root] : root.querySelectorAll('#toasts > .toast');
    toasts.forEach(function (t) {
      if (t.hasAttribute('data-autodismiss') && !t.dataset.timed) { t.dataset.timed = '1'; autoDismiss(t); }
    });
    // In the narrow layout the nav is a sideways-scrolling strip: bring the
    // current page's link into view instead of leaving it cut off at the edge.
    var nav = root.querySelector('.nav'), cur = nav && nav.querySelector('[aria-current="page"]');
    if (cur && nav.scrollWidth > nav.clientWidth) {
      nav.scrollLeft += cur.getBoundingClientRect().left - nav.getBoundingClientRect().left - 16;
    }
  }
  if (window.htmx) htmx.onLoad(enhance); else enhance(document.body);

  // A boosted navigation to a page with pages.css (views.PageStyles) that
  // this tab has not applied yet: the page shows once it has loaded, not
  // unstyled for a moment.
  document.addEventListener('htmx:afterSwap', function () {
    var l = document.querySelector('link[data-page-styles]'), root = document.documentElement;
    if (!l || l.sheet) return;
    var done = function () { root.classList.remove('styles-pending'); };
    root.classList.add('styles-pending');
    l.addEventListener('load', done);
    l.addEventListener('error', done);
    setTimeout(done, 3000);
  });

  // Read per request, not once: a boosted navigation may carry a rotated token.
  document.body.addEventListener('htmx:configRequest', function (e) {
    var token = meta('csrf-token');
    if (token) e.detail.headers['X-CSRF-Token'] = token;
  });

  // htmx handles a response synchronously: htmx:beforeOnLoad, then the
  // HX-Trigger events (our toast), then htmx:responseError. So a flag reset
  // here tells responseError whether the server already said something.
  document.body.addEventListener('htmx:beforeOnLoad', function () { toasted = false; });

  document.body.addEventListener('htmx:responseError', function (e) {
    var xhr = e.detail.xhr, cfg = e.detail.requestConfig;
    if (!xhr || xhr.status === 422 || toasted) return;
    // A boosted link that fails (404, 403, 500…): let the browser load it for
    // real so the user sees the full error page with its request ID.
    if (e.detail.boosted && cfg && cfg.verb === 'get') {
      return window.location.assign(e.detail.pathInfo.finalRequestPath || e.detail.pathInfo.requestPath);
    }
    serverError();
  });

  document.body.addEventListener('htmx:sendError', networkError);

  function serverError() { showToast('error', meta('msg-server-error') || 'Something went wrong. Please try again.'); }
  function networkError() { showToast('error', meta('msg-network-error') || 'Could not reach the server. Check your connection.'); }

  // ---- plain forms -------------------------------------------------------

  document.addEventListener('change', function (e) {
    var el = e.target;
    if (!el.matches('select[data-autosubmit]') || !el.form) return;
    // requestSubmit fires the submit event (CSRF field, data-confirm, htmx
    // all still apply); submit() is the fallback for very old browsers.
    if (el.form.requestSubmit) el.form.requestSubmit(); else el.form.submit();
  });

  // <select data-options="url">: a menu of a desk's agents comes with its
  // current choice only (a desk may have 2,000 of them) and loads the rest
  // as the pointer reaches it or it gets the focus, before it opens. The
  // choice it holds, made before or while they load, stays chosen.
  function loadOptions(e) {
    var sel = e.target && e.target.closest && e.target.closest('select[data-options]');
    if (!sel || sel.parleyOptions) return;
    sel.parleyOptions = true;
    var url = new URL(sel.getAttribute('data-options'), location.href), xhr = new XMLHttpRequest();
    url.searchParams.set('selected', sel.value); // chosen in what comes back
    xhr.open('GET', url.href);
    xhr.setRequestHeader('HX-Request', 'true');
    xhr.onload = function () {
      // (a signed-out session ends at the sign-in page: not options)
      if (xhr.status !== 200 || new URL(xhr.responseURL).pathname !== url.pathname) {
        sel.parleyOptions = false; // the next pointer tries again
        if (xhr.status >= 500) serverError();
        return;
      }
      var now = sel.value; // loading the list changes no choice
      sel.innerHTML = xhr.responseText;
      if (Array.prototype.some.call(sel.options, function (o) { return o.value === now; })) sel.value = now;
    };
    xhr.onerror = function () {
      sel.parleyOptions = false;
      networkError();
    };
    xhr.send();
  }
  ['pointerover', 'focusin', 'touchstart'].forEach(function (name) {
    document.addEventListener(name, loadOptions, { capture: true, passive: true });
  });
  // A touch screen has no pointer on its way to the menu, and its native
  // picker opens at the tap, before a list could arrive: there, a menu
  // loads once it is on screen.
  if (window.matchMedia && window.matchMedia('(hover: none)').matches && window.IntersectionObserver) {
    var onScreen = new IntersectionObserver(function (entries) {
      entries.forEach(function (en) {
        if (!en.isIntersecting) return;
        onScreen.unobserve(en.target);
        loadOptions({ target: en.target });
      });
    });
    var watchMenus = function () {
      document.querySelectorAll('select[data-options]').forEach(function (sel) { if (!sel.parleyOptions) onScreen.observe(sel); });
    };
    document.addEventListener('DOMContentLoaded', watchMenus);
    document.addEventListener('htmx:afterSettle', watchMenus); // swapped in, live or by a click
  }

  // <button data-copy="#id" data-copied="…"> copies that field's text (the
  // widget's embed code) and says so.
  document.addEventListener('click', function (e) {
    var btn = e.target.closest && e.target.closest('[data-copy]');
    if (!btn) return;
    var field = document.querySelector(btn.getAttribute('data-copy'));
    if (!field) return;
    var done = function () { showToast('success', btn.getAttribute('data-copied')); };
    var fallback = function () { field.select(); if (document.execCommand('copy')) done(); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, fallback);
    } else {
      fallback();
    }
  });

  // Capture phase on document runs before htmx's listener on the form, so a
  // "Cancel" here stops both the native submit and an hx-post on that form.
  document.addEventListener('submit', function (e) {
    var text = (e.submitter && e.submitter.getAttribute('data-confirm')) || e.target.getAttribute('data-confirm');
    if (text && !window.confirm(text)) {
      e.preventDefault();
      e.stopPropagation();
    }
  }, true);

  // hx-confirm asks in a native <dialog> rather than window.confirm, with
  // the element's translated button labels (data-confirm-ok/-cancel); the
  // request goes out only after "OK" (htmx's issueRequest).
  document.body.addEventListener('htmx:confirm', function (e) {
    var question = e.detail.question, el = e.detail.elt;
    if (!question || typeof HTMLDialogElement !== 'function') return;
    e.preventDefault();
    var d = document.createElement('dialog');
    d.className = 'confirm-dialog';
    d.id = 'confirm-dialog';
    var p = document.createElement('p');
    p.textContent = question;
    var f = document.createElement('form');
    f.method = 'dialog';
    f.className = 'form-actions';
    var cancel = document.createElement('button');
    cancel.className = 'btn';
    cancel.value = 'cancel';
    cancel.id = 'confirm-cancel';
    cancel.textContent = el.getAttribute('data-confirm-cancel') || 'Cancel';
    var ok = document.createElement('button');
    ok.className = 'btn btn-primary';
    ok.value = 'ok';
    ok.id = 'confirm-ok';
    ok.textContent = el.getAttribute('data-confirm-ok') || 'OK';
    f.appendChild(cancel);
    f.appendChild(ok);
    d.appendChild(p);
    d.appendChild(f);
    d.addEventListener('close', function () {
      var yes = d.returnValue === 'ok';
      d.remove();
      if (yes) e.detail.issueRequest(true);
    });
    document.body.appendChild(d);
    d.showModal();
    ok.focus();
  });
})();

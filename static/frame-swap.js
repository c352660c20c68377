// Parley widget frame: the part of htmx the frame uses, in plain JavaScript.
// htmx alone (52 KB minified) was more than the frame's whole budget (issue
// 12: ≤ 50 KB of JS+CSS); the frame needs only this. Loaded with `defer`
// before live.js and widget-frame.js, in place of htmx and htmx-ext-sse.
// No framework, no build.
//
// It reads the same attributes and raises the same events as htmx 2, so the
// widget's templates and live.js are the desk's:
//   hx-get / hx-post on forms (submit) and other elements (click);
//   hx-trigger: "click", "submit", "intersect once", "input changed
//     delay:300ms from:#id", comma-separated;
//   hx-target ("this" or a selector), hx-swap (innerHTML, outerHTML,
//     beforeend, afterbegin, none), hx-vals (JSON), hx-disabled-elt
//     ("find <selector>" or a selector);
//   hx-swap-oob in responses ("true", a style, or "style:selector");
//   HX-Request on requests; HX-Trigger and HX-Redirect on responses;
//   htmx.config.responseHandling (which statuses swap, which are errors);
//   hx-ext="sse" sse-connect / sse-swap (htmx-ext-sse: one EventSource per
//     element, made by htmx.createEventSource, reopened with backoff when
//     it closes, closed when its element leaves the page);
//   events htmx:configRequest, beforeRequest, beforeOnLoad, responseError,
//     sendError, beforeSwap, afterSwap, afterSettle, afterRequest, load,
//     oobBeforeSwap, oobAfterSwap, sseBeforeMessage, sseMessage;
//   htmx.ajax, htmx.trigger, htmx.onLoad, htmx.process.
// Requests go through XMLHttpRequest, as htmx's do (the browser tests count
// them to know when a page is idle).
(function () {
  'use strict';

  var htmx = window.htmx = {
    config: {
      responseHandling: [
        { code: '204', swap: false },
        { code: '[23]..', swap: true },
        { code: '[45]..', swap: false, error: true },
        { code: '...', swap: false }
      ]
    },
    createEventSource: function (url) { return new EventSource(url); }
  };

  // fire raises an htmx event on el, or on the body once el has left the
  // page (as htmx does after a swap removed the element that asked).
  var fire = function (el, name, detail, cancelable) {
    detail = detail || {};
    if (!('elt' in detail)) detail.elt = el;
    var ev = new CustomEvent(name, { bubbles: true, cancelable: !!cancelable, detail: detail });
    return (el && el.isConnected ? el : document.body).dispatchEvent(ev);
  };
  var attr = function (el, name) { return el.getAttribute ? el.getAttribute(name) : null; };
  var find = function (from, sel) {
    if (!sel || sel === 'this') return from;
    if (sel.indexOf('find ') === 0) return from.querySelector(sel.slice(5));
    return document.querySelector(sel);
  };

  // ---- swapping ---------------------------------------------------------------
  var loaded = function (el) {
    if (el.nodeType !== 1) return;
    // Scripts parsed from a response do not run; copies do (the composer
    // brings files.js with it).
    (el.tagName === 'SCRIPT' ? [el] : Array.prototype.slice.call(el.querySelectorAll('script'))).forEach(function (old) {
      var s = document.createElement('script');
      Array.prototype.forEach.call(old.attributes, function (a) { s.setAttribute(a.name, a.value); });
      s.textContent = old.textContent;
      old.replaceWith(s);
    });
    process(el);
    fire(el, 'htmx:load');
  };
  // put inserts the nodes of frag at target as style says and returns them.
  var put = function (style, target, frag) {
    var nodes = Array.prototype.slice.call(frag.childNodes);
    switch (style) {
    case 'outerHTML':
      target.replaceWith(frag);
      break;
    case 'beforeend':
      target.appendChild(frag);
      break;
    case 'afterbegin':
      target.insertBefore(frag, target.firstChild);
      break;
    case 'delete':
      target.remove();
      return [];
    default: // innerHTML
      target.replaceChildren(frag);
    }
    return nodes;
  };
  var oob = function (el) {
    var spec = attr(el, 'hx-swap-oob'), style = 'outerHTML', sel = '#' + el.id;
    el.removeAttribute('hx-swap-oob');
    if (spec !== 'true') {
      var i = spec.indexOf(':');
      if (i > 0) { style = spec.slice(0, i); sel = spec.slice(i + 1); } else style = spec;
    }
    var target = document.querySelector(sel);
    if (!target) { el.remove(); return []; }
    // An outerHTML swap puts the element itself in; the others its children.
    var frag = el;
    if (style === 'outerHTML') {
      frag = document.createDocumentFragment();
      frag.appendChild(el);
    } else {
      el.remove();
    }
    var d = { shouldSwap: true, target: target, fragment: frag };
    if (!fire(target, 'htmx:oobBeforeSwap', d, true) || !d.shouldSwap) return [];
    var added = put(style, d.target, frag instanceof DocumentFragment ? frag : fragmentOf(frag));
    var first = style === 'outerHTML' && added.filter(function (n) { return n.nodeType === 1; })[0];
    if (first) d.target = first;
    fire(first || d.target, 'htmx:oobAfterSwap', d);
    return added;
  };
  var fragmentOf = function (el) {
    var f = document.createDocumentFragment();
    while (el.firstChild) f.appendChild(el.firstChild);
    return f;
  };
  // swap applies a response: its out-of-band parts, then the rest at target.
  // It returns what it put in, for settle (the caller's afterSwap comes
  // first, then htmx:load on each, then afterSettle: htmx's order).
  var swap = function (target, style, html) {
    var t = document.createElement('template'), added = [];
    t.innerHTML = html;
    Array.prototype.slice.call(t.content.querySelectorAll('[hx-swap-oob]')).forEach(function (el) {
      if (t.content.contains(el)) added = added.concat(oob(el));
    });
    if (style !== 'none' && target) added = added.concat(put(style, target, t.content));
    sweep();
    return added;
  };
  var settle = function (added) { added.forEach(loaded); };

  // ---- requests -----------------------------------------------------------------
  var matches = function (code, status) { return new RegExp('^' + code + '$').test(String(status)); };
  var rule = function (status) {
    var rules = htmx.config.responseHandling;
    for (var i = 0; i < rules.length; i++) if (matches(rules[i].code, status)) return rules[i];
    return { swap: false };
  };
  var triggerHeader = function (el, value) {
    if (!value) return;
    var events;
    try { events = JSON.parse(value); } catch (e) {
      events = {};
      value.split(',').forEach(function (n) { if (n.trim()) events[n.trim()] = {}; });
    }
    Object.keys(events).forEach(function (name) {
      var v = events[name];
      fire(el, name, v && typeof v === 'object' ? v : { value: v });
    });
  };
  var values = function (elt, verb, submitter) {
    var p = {}, add = function (k, v) {
      if (typeof v !== 'string') return; // files go up on their own (files.js)
      if (!(k in p)) p[k] = v; else if (Array.isArray(p[k])) p[k].push(v); else p[k] = [p[k], v];
    };
    var form = elt.tagName === 'FORM' ? elt : verb !== 'get' && elt.closest && elt.closest('form');
    if (form) new FormData(form).forEach(function (v, k) { add(k, v); });
    if (submitter && submitter.name) add(submitter.name, submitter.value);
    var vals = attr(elt, 'hx-vals');
    if (vals) {
      try {
        var o = JSON.parse(vals);
        Object.keys(o).forEach(function (k) { p[k] = String(o[k]); });
      } catch (e) { /* ignored, as htmx would report it */ }
    }
    return p;
  };
  var encode = function (p) {
    var q = new URLSearchParams();
    Object.keys(p).forEach(function (k) {
      [].concat(p[k]).forEach(function (v) { if (v != null) q.append(k, String(v)); });
    });
    return q.toString();
  };

  // request sends verb path for elt and swaps the answer into target;
  // the promise settles when it is done (rejected if it could not be sent).
  var request = function (elt, verb, path, target, style, evt) {
    return new Promise(function (resolve, reject) {
      // One request at a time per element; one asked meanwhile waits and
      // goes next, the last one asked only (htmx's default, "queue last").
      if (elt.htmxBusy) {
        if (elt.htmxNext) elt.htmxNext.drop();
        var next = elt.htmxNext = function () {
          if (!elt.isConnected && elt !== document.body) return resolve(); // swapped away meanwhile
          request(elt, verb, path, target, style, evt).then(resolve, reject);
        };
        next.drop = resolve;
        return;
      }
      var d = {
        verb: verb, path: path, target: target, elt: elt, triggeringEvent: evt || null,
        parameters: values(elt, verb, evt && evt.submitter),
        headers: { 'HX-Request': 'true', 'HX-Current-URL': location.href }
      };
      if (target && target.id) d.headers['HX-Target'] = target.id;
      if (!fire(elt, 'htmx:configRequest', d, true) || !fire(elt, 'htmx:beforeRequest', { elt: elt, target: target, requestConfig: d }, true)) return resolve();
      var body = encode(d.parameters), url = d.path;
      if (verb === 'get' && body) { url += (url.indexOf('?') < 0 ? '?' : '&') + body; body = null; }
      var sel = attr(elt, 'hx-disabled-elt'), off = sel ? find(elt, sel) : null;
      if (off && off.disabled) off = null;
      elt.htmxBusy = true;
      elt.classList.add('htmx-request');
      if (off) off.disabled = true;
      var done = function () {
        elt.htmxBusy = false;
        elt.classList.remove('htmx-request');
        if (off) off.disabled = false;
        var next = elt.htmxNext;
        elt.htmxNext = null;
        if (next) setTimeout(next);
      };
      var xhr = new XMLHttpRequest();
      xhr.open(verb.toUpperCase(), url);
      Object.keys(d.headers).forEach(function (k) { xhr.setRequestHeader(k, d.headers[k]); });
      if (body != null) xhr.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded');
      xhr.onload = function () {
        done();
        var info = { xhr: xhr, elt: elt, target: target, requestConfig: d };
        fire(elt, 'htmx:beforeOnLoad', info);
        triggerHeader(elt, xhr.getResponseHeader('HX-Trigger'));
        var to = xhr.getResponseHeader('HX-Redirect');
        if (to) { location.href = to; return resolve(); }
        var r = rule(xhr.status);
        if (r.error) fire(elt, 'htmx:responseError', info);
        var s = { xhr: xhr, elt: elt, target: target, shouldSwap: !!r.swap, serverResponse: xhr.responseText, requestConfig: d };
        if (fire(elt, 'htmx:beforeSwap', s, true) && s.shouldSwap) {
          var added = swap(s.target, style, xhr.responseText);
          fire(s.target, 'htmx:afterSwap', info);
          settle(added);
          fire(s.target, 'htmx:afterSettle', info);
        }
        info.successful = xhr.status >= 200 && xhr.status < 400;
        info.failed = !info.successful;
        fire(elt, 'htmx:afterRequest', info);
        fire(elt, 'htmx:afterOnLoad', info);
        resolve();
      };
      xhr.onerror = xhr.ontimeout = function () {
        done();
        var info = { xhr: xhr, elt: elt, target: target, requestConfig: d, successful: false, failed: true };
        fire(elt, 'htmx:sendError', info);
        fire(elt, 'htmx:afterRequest', info);
        reject(new Error('request failed: ' + path));
      };
      xhr.send(body);
    });
  };
  var fromElement = function (el, evt) {
    var verb = el.hasAttribute('hx-post') ? 'post' : 'get';
    var target = find(el, attr(el, 'hx-target')) || el;
    return request(el, verb, attr(el, 'hx-' + verb), target, attr(el, 'hx-swap') || 'innerHTML', evt);
  };

  // ---- triggers ---------------------------------------------------------------------
  var bind = function (el) {
    var spec = attr(el, 'hx-trigger') || (el.tagName === 'FORM' ? 'submit' : 'click');
    spec.split(',').forEach(function (part) {
      var words = part.trim().split(/\s+/), name = words.shift();
      if (!name) return;
      var once = false, changed = false, delay = 0, from = el, timer = null, last;
      words.forEach(function (w) {
        if (w === 'once') once = true;
        else if (w === 'changed') changed = true;
        else if (w.indexOf('delay:') === 0) delay = parseInt(w.slice(6), 10) || 0;
        else if (w.indexOf('from:') === 0) from = document.querySelector(w.slice(5)) || el;
      });
      var fired = false;
      var go = function (evt) {
        if (once && fired) return;
        fired = true;
        clearTimeout(timer);
        if (delay) timer = setTimeout(function () { fromElement(el, evt); }, delay); else fromElement(el, evt);
      };
      if (name === 'intersect') {
        if (!window.IntersectionObserver) return;
        var io = new IntersectionObserver(function (entries) {
          entries.forEach(function (en) {
            if (!en.isIntersecting) return;
            if (once) io.disconnect();
            go(null);
          });
        });
        io.observe(el);
        return;
      }
      from.addEventListener(name, function (evt) {
        if (name === 'submit' || el.tagName === 'A' || el.type === 'submit') evt.preventDefault();
        if (changed) {
          var v = from.value;
          if (v === last) return;
          last = v;
        }
        go(evt);
      });
    });
  };

  // ---- live streams (htmx-ext-sse) ------------------------------------------------
  var sources = [];
  var connect = function (el, retry) {
    var es = htmx.createEventSource(attr(el, 'sse-connect'));
    var entry = { el: el, es: es };
    sources.push(entry);
    el.querySelectorAll('[sse-swap]').forEach(function (sw) {
      attr(sw, 'sse-swap').split(',').forEach(function (name) {
        es.addEventListener(name.trim(), function (m) {
          if (!el.isConnected) return sweep();
          if (!fire(sw, 'htmx:sseBeforeMessage', m, true)) return;
          var style = attr(sw, 'hx-swap') || 'innerHTML';
          settle(swap(find(sw, attr(sw, 'hx-target')) || sw, style, m.data));
          fire(sw, 'htmx:afterSettle', {});
          fire(sw, 'htmx:sseMessage', m);
        });
      });
    });
    es.onopen = function () { retry = 0; };
    es.onerror = function () {
      if (!el.isConnected) return sweep();
      if (es.readyState !== 2) return; // the browser reconnects by itself
      sources = sources.filter(function (s) { return s !== entry; });
      retry = Math.max(Math.min((retry || 0) * 2, 128), 1);
      setTimeout(function () { if (el.isConnected) connect(el, retry); }, retry * 500);
    };
  };
  // sweep closes the streams of elements no longer on the page.
  var sweep = function () {
    sources = sources.filter(function (s) {
      if (s.el.isConnected) return true;
      s.es.close();
      return false;
    });
  };

  // process wires what el and its descendants ask for, once per element.
  var process = function (el) {
    if (!el.querySelectorAll) return;
    var all = Array.prototype.slice.call(el.querySelectorAll('[hx-get],[hx-post],[sse-connect]'));
    if (el.matches('[hx-get],[hx-post],[sse-connect]')) all.unshift(el);
    all.forEach(function (n) {
      if (n.htmxBound) return;
      n.htmxBound = true;
      if (n.hasAttribute('sse-connect')) connect(n, 0); else bind(n);
    });
  };

  htmx.process = process;
  htmx.onLoad = function (fn) {
    document.addEventListener('htmx:load', function (e) { fn(e.detail.elt); });
  };
  htmx.trigger = function (el, name, detail) {
    el.dispatchEvent(new CustomEvent(name, { bubbles: true, cancelable: true, detail: detail || {} }));
  };
  htmx.ajax = function (verb, path, opts) {
    opts = opts || {};
    var target = typeof opts.target === 'string' ? document.querySelector(opts.target) : opts.target;
    return request(document.body, verb.toLowerCase(), path, target || document.body, opts.swap || 'innerHTML', null);
  };
  htmx.swap = function (target, html, spec) { settle(swap(target, (spec && spec.swapStyle) || 'innerHTML', html)); };
  document.addEventListener('DOMContentLoaded', function () {
    process(document.body);
    fire(document.body, 'htmx:load');
  });
})();

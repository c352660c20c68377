// Parley swap layer: the part of htmx that Parley's pages use, in plain
// JavaScript, for the staff pages and the widget frame alike. htmx alone
// (52 KB minified) was half of the desk's first-load budget and more than the
// frame's whole one (issue 12: ≤ 100 KB and ≤ 50 KB of JS+CSS); this is what
// they need. Loaded with `defer` before the pages' own scripts, in place of
// htmx and htmx-ext-sse. No framework, no build.
//
// It reads the same attributes and raises the same events as htmx 2, so the
// templates and scripts were written for htmx and did not change:
//   hx-get / hx-post on forms (submit) and other elements (click);
//   hx-trigger: "click", "submit", "load", "search", "intersect once",
//     "input changed delay:300ms from:#id", comma-separated;
//   hx-target ("this", "closest <selector>", "find <selector>" or a
//     selector), hx-swap (innerHTML, outerHTML, beforeend, afterbegin,
//     none), hx-select, hx-vals (JSON), hx-include, hx-disabled-elt
//     ("find <selector>" or a selector), hx-confirm (htmx:confirm first),
//     hx-push-url;
//   hx-boost="true" (inherited; "false" opts out): same-origin links and
//     forms load the next page with XHR (HX-Boosted) and swap the body's
//     content, keeping <head> and the scripts' state; the address is pushed
//     into history (HX-Push-Url, else the final URL), and back/forward fetch
//     the page again (htmx:historyRestore);
//   hx-preserve: an element of the new content with the id of one on the
//     page is replaced by the one on the page, kept as it is;
//   hx-swap-oob in responses ("true", a style, or "style:selector");
//     a <title> in a response becomes the page's title; [autofocus] in new
//     content takes the focus, or the focused element's namesake keeps it;
//   HX-Request, HX-Current-URL, HX-Target, HX-Boosted on requests;
//     HX-Trigger, HX-Redirect, HX-Push-Url, HX-Retarget (a selector) and
//     HX-Reswap (a style) on responses (a desk page answers a click with
//     its <main> only: app/desk_nav.go regionOnly);
//   htmx.config.responseHandling (which statuses swap, which are errors),
//     and <meta name="htmx-config"> merged into htmx.config;
//   hx-ext="sse" sse-connect / sse-swap (htmx-ext-sse: one EventSource per
//     element, made by htmx.createEventSource, reopened with backoff when
//     it closes, closed when its element leaves the page);
//   events htmx:confirm, configRequest, beforeRequest, beforeOnLoad,
//     responseError, sendError, beforeSwap, afterSwap, afterSettle,
//     afterRequest, afterOnLoad, load, oobBeforeSwap, oobAfterSwap,
//     historyRestore, sseBeforeMessage, sseMessage;
//   htmx.ajax, htmx.trigger, htmx.onLoad, htmx.process, htmx.swap.
// Attributes other than hx-boost are read on the element itself, not
// inherited from its ancestors (no template relies on that).
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
  var metaConfig = document.querySelector('meta[name="htmx-config"]');
  if (metaConfig) {
    try {
      var mc = JSON.parse(metaConfig.content);
      Object.keys(mc).forEach(function (k) { htmx.config[k] = mc[k]; });
    } catch (e) { /* ignored, as htmx would log it */ }
  }

  var slice = function (list) { return Array.prototype.slice.call(list); };
  // fire raises an htmx event on el, or on the body once el has left the
  // page (as htmx does after a swap removed the element that asked).
  var fire = function (el, name, detail, cancelable) {
    detail = detail || {};
    if (!('elt' in detail)) detail.elt = el;
    var ev = new CustomEvent(name, { bubbles: true, cancelable: !!cancelable, detail: detail });
    return (el && el.isConnected ? el : document.body).dispatchEvent(ev);
  };
  var attr = function (el, name) { return el && el.getAttribute ? el.getAttribute(name) : null; };
  var find = function (from, sel) {
    if (!sel || sel === 'this') return from;
    if (sel.indexOf('find ') === 0) return from.querySelector(sel.slice(5));
    if (sel.indexOf('closest ') === 0) return from.closest(sel.slice(8));
    return document.querySelector(sel);
  };

  // ---- swapping ---------------------------------------------------------------
  var preserved = new WeakSet();
  var loaded = function (el) {
    if (el.nodeType !== 1) return;
    // Scripts parsed from a response do not run; copies do (the composer
    // brings files.js with it). Those of a preserved element ran already.
    (el.tagName === 'SCRIPT' ? [el] : slice(el.querySelectorAll('script'))).forEach(function (old) {
      for (var p = old; p; p = p.parentElement) if (preserved.has(p)) return;
      var s = document.createElement('script');
      slice(old.attributes).forEach(function (a) { s.setAttribute(a.name, a.value); });
      s.textContent = old.textContent;
      old.replaceWith(s);
    });
    process(el);
    var auto = el.matches('[autofocus]') ? el : el.querySelector('[autofocus]');
    if (auto) auto.focus();
    fire(el, 'htmx:load');
  };
  // put inserts the nodes of frag at target as style says and returns them.
  var put = function (style, target, frag) {
    var nodes = slice(frag.childNodes);
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
  // parse makes a fragment of a response: the body's content of a whole
  // page (a boosted navigation), the HTML itself otherwise.
  var parse = function (html) {
    var t = document.createElement('template');
    if (/<body[\s>]/i.test(html)) {
      // Through innerHTML again: scripts parsed so never run by themselves.
      var doc = new DOMParser().parseFromString(html, 'text/html');
      t.innerHTML = doc.body.innerHTML;
      if (doc.title) {
        var title = document.createElement('title');
        title.textContent = doc.title;
        t.content.insertBefore(title, t.content.firstChild);
      }
    } else {
      t.innerHTML = html;
    }
    return t.content;
  };
  // swap applies a response: its title and out-of-band parts, then the rest
  // (or what select picks of it) at target, keeping [hx-preserve] elements
  // and the focus. It returns what it put in, for settle (the caller's
  // afterSwap comes first, then htmx:load on each, then afterSettle: htmx's
  // order).
  var swap = function (target, style, html, select) {
    var content = parse(html), added = [];
    var title = slice(content.querySelectorAll('title')).filter(function (el) { return !el.closest('svg'); })[0];
    if (title) {
      document.title = title.textContent;
      title.remove();
    }
    slice(content.querySelectorAll('[hx-swap-oob]')).forEach(function (el) {
      if (content.contains(el)) added = added.concat(oob(el));
    });
    if (select) {
      var picked = document.createDocumentFragment();
      slice(content.querySelectorAll(select)).forEach(function (el) { picked.appendChild(el); });
      content = picked;
    }
    if (style !== 'none' && target) {
      slice(content.querySelectorAll('[hx-preserve][id]')).forEach(function (el) {
        var old = document.getElementById(el.id);
        if (!old) return;
        preserved.add(old);
        el.replaceWith(old);
      });
      var active = document.activeElement, sel = null;
      try { sel = active && [active.selectionStart, active.selectionEnd]; } catch (e) { /* not a text field */ }
      added = added.concat(put(style, target, content));
      // The focused element, swapped out, hands the focus to its namesake.
      var focus = active && active.id && !active.isConnected && document.getElementById(active.id);
      if (focus) {
        focus.focus();
        try { if (sel && sel[0] != null) focus.setSelectionRange(sel[0], sel[1]); } catch (e) { /* not a text field */ }
      }
    }
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
  var values = function (elt, verb, submitter, extra) {
    var p = {}, add = function (k, v) {
      if (typeof v !== 'string') return; // files go up on their own (files.js)
      if (!(k in p)) p[k] = v; else if (Array.isArray(p[k])) p[k].push(v); else p[k] = [p[k], v];
    };
    var addForm = function (form) { new FormData(form).forEach(function (v, k) { add(k, v); }); };
    var form = elt.tagName === 'FORM' ? elt : verb !== 'get' && elt.closest && elt.closest('form');
    if (form) addForm(form);
    else if (elt.name && /^(INPUT|SELECT|TEXTAREA)$/.test(elt.tagName)) add(elt.name, elt.value);
    if (submitter && submitter.name) add(submitter.name, submitter.value);
    var inc = attr(elt, 'hx-include');
    if (inc) {
      slice(document.querySelectorAll(inc)).forEach(function (el) {
        if (el.tagName === 'FORM') addForm(el);
        else if (el.name && !el.disabled) add(el.name, el.value);
      });
    }
    var vals = attr(elt, 'hx-vals');
    if (vals) {
      try {
        var o = JSON.parse(vals);
        Object.keys(o).forEach(function (k) { p[k] = String(o[k]); });
      } catch (e) { /* ignored, as htmx would report it */ }
    }
    if (extra) Object.keys(extra).forEach(function (k) { p[k] = String(extra[k]); });
    return p;
  };
  var encode = function (p) {
    var q = new URLSearchParams();
    Object.keys(p).forEach(function (k) {
      [].concat(p[k]).forEach(function (v) { if (v != null) q.append(k, String(v)); });
    });
    return q.toString();
  };

  // ---- history ------------------------------------------------------------------
  // Each entry a navigation pushed is marked, the first page's too, so back
  // and forward between them load the page again in place (htmx fetches it
  // when its cache misses; here it always does, so what shows is current).
  // current is the address of the page on screen: during a back/forward
  // restore the location is the next one already, and the server wants to
  // know what the page shows (HX-Current-URL).
  var current = location.href;
  var pushURL = function (url) {
    if (!history.state || !history.state.htmx) history.replaceState({ htmx: true }, '', location.href);
    history.pushState({ htmx: true }, '', url);
  };
  window.addEventListener('popstate', function (e) {
    if (!e.state || !e.state.htmx) return;
    request(document.body, 'get', location.href, document.body, 'innerHTML', null, { boosted: true, restore: true });
  });

  // request sends verb path for elt and swaps the answer into target;
  // the promise settles when it is done (rejected if it could not be sent).
  // opts: boosted, restore (a history restore), values, select, pushURL,
  // confirmed.
  var request = function (elt, verb, path, target, style, evt, opts) {
    opts = opts || {};
    return new Promise(function (resolve, reject) {
      // hx-confirm: htmx:confirm first (a listener may ask its own way and
      // call issueRequest later), then window.confirm.
      var question = attr(elt, 'hx-confirm');
      if (!opts.confirmed) {
        var c = {
          elt: elt, target: target, path: path, verb: verb, triggeringEvent: evt || null, question: question,
          issueRequest: function () {
            opts.confirmed = true;
            return request(elt, verb, path, target, style, evt, opts);
          }
        };
        if (!fire(elt, 'htmx:confirm', c, true)) return resolve();
        if (question && !window.confirm(question)) return resolve();
        opts.confirmed = true;
      }
      // One request at a time per element; one asked meanwhile waits and
      // goes next, the last one asked only (htmx's default, "queue last").
      if (elt.htmxBusy) {
        if (elt.htmxNext) elt.htmxNext.drop();
        var next = elt.htmxNext = function () {
          if (!elt.isConnected && elt !== document.body) return resolve(); // swapped away meanwhile
          request(elt, verb, path, target, style, evt, opts).then(resolve, reject);
        };
        next.drop = resolve;
        return;
      }
      var d = {
        verb: verb, path: path, target: target, elt: elt, triggeringEvent: evt || null, boosted: !!opts.boosted,
        parameters: values(elt, verb, evt && evt.submitter, opts.values),
        headers: { 'HX-Request': 'true', 'HX-Current-URL': opts.restore ? current : location.href }
      };
      if (opts.boosted) d.headers['HX-Boosted'] = 'true';
      if (opts.restore) d.headers['HX-History-Restore-Request'] = 'true';
      if (target && target.id) d.headers['HX-Target'] = target.id;
      var info = { elt: elt, target: target, requestConfig: d, boosted: !!opts.boosted, pathInfo: { requestPath: path } };
      if (!fire(elt, 'htmx:configRequest', d, true) || !fire(elt, 'htmx:beforeRequest', info, true)) return resolve();
      var body = encode(d.parameters), url = d.path;
      if (verb === 'get' && body) {
        var hash = url.indexOf('#');
        if (hash >= 0) url = url.slice(0, hash);
        url += (url.indexOf('?') < 0 ? '?' : '&') + body;
        body = null;
      }
      info.pathInfo.finalRequestPath = url;
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
      var xhr = info.xhr = new XMLHttpRequest();
      xhr.open(verb.toUpperCase(), url);
      Object.keys(d.headers).forEach(function (k) { xhr.setRequestHeader(k, d.headers[k]); });
      if (body != null) xhr.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded');
      xhr.onload = function () {
        done();
        info.pathInfo.responsePath = xhr.responseURL;
        fire(elt, 'htmx:beforeOnLoad', info);
        triggerHeader(elt, xhr.getResponseHeader('HX-Trigger'));
        var to = xhr.getResponseHeader('HX-Redirect');
        if (to) { location.href = to; return resolve(); }
        var r = rule(xhr.status);
        if (r.error) fire(elt, 'htmx:responseError', info);
        // The server may send the answer elsewhere (htmx's HX-Retarget and
        // HX-Reswap). A region whose place is not on this page cannot be
        // shown: a boosted navigation then loads the whole page instead.
        var retarget = xhr.getResponseHeader('HX-Retarget'), swapStyle = xhr.getResponseHeader('HX-Reswap') || style;
        if (retarget) {
          target = info.target = document.querySelector(retarget);
          if (!target && opts.boosted && verb === 'get') { location.href = xhr.responseURL || url; return resolve(); }
        }
        var s = { xhr: xhr, elt: elt, target: target, shouldSwap: !!r.swap, serverResponse: xhr.responseText, requestConfig: d, boosted: !!opts.boosted, pathInfo: info.pathInfo };
        if (fire(elt, 'htmx:beforeSwap', s, true) && s.shouldSwap) {
          // Where the page goes in history (htmx's order: the server's
          // HX-Push-Url, then hx-push-url, then a boosted navigation's URL).
          var push = xhr.getResponseHeader('HX-Push-Url') || opts.pushURL || attr(elt, 'hx-push-url') || (opts.boosted && !opts.restore ? 'true' : null);
          if (push === 'true') push = xhr.responseURL || url;
          var added = swap(s.target, swapStyle, xhr.responseText, opts.select || attr(elt, 'hx-select'));
          if (opts.boosted && !opts.restore) {
            var anchor = /#(.+)$/.exec(path), at = anchor && document.getElementById(decodeURIComponent(anchor[1]));
            if (at) at.scrollIntoView(); else window.scrollTo(0, 0);
            if (push && anchor && push.indexOf('#') < 0) push += anchor[0];
          }
          fire(s.target, 'htmx:afterSwap', info);
          settle(added);
          fire(s.target, 'htmx:afterSettle', info);
          if (push && push !== 'false' && !opts.restore) {
            pushURL(push);
            current = location.href;
          }
          if (opts.restore) {
            current = location.href;
            fire(document.body, 'htmx:historyRestore', { path: location.href, cacheMiss: true, serverResponse: xhr.responseText });
          }
        }
        info.successful = xhr.status >= 200 && xhr.status < 400;
        info.failed = !info.successful;
        fire(elt, 'htmx:afterRequest', info);
        fire(elt, 'htmx:afterOnLoad', info);
        resolve();
      };
      xhr.onerror = xhr.ontimeout = function () {
        done();
        info.successful = false;
        info.failed = true;
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

  // ---- boosted links and forms ---------------------------------------------------
  // Delegated: links and forms added by any script are boosted too.
  var boosted = function (el) {
    var b = el.closest('[hx-boost]');
    return b && attr(b, 'hx-boost') === 'true' && !el.hasAttribute('hx-get') && !el.hasAttribute('hx-post');
  };
  var sameOrigin = function (u) { return u.origin === location.origin; };
  document.addEventListener('click', function (e) {
    if (e.defaultPrevented || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    var a = e.target.closest && e.target.closest('a[href]');
    if (!a || !boosted(a) || (a.target && a.target !== '_self') || a.hasAttribute('download')) return;
    var href = attr(a, 'href'), u = new URL(a.href);
    if (href.charAt(0) === '#' || !sameOrigin(u) || !/^https?:$/.test(u.protocol)) return;
    if (u.hash && u.pathname === location.pathname && u.search === location.search) return; // a place on this page
    e.preventDefault();
    request(a, 'get', u.pathname + u.search + u.hash, document.body, 'innerHTML', e, { boosted: true }).catch(function () {});
  });
  document.addEventListener('submit', function (e) {
    var f = e.target, s = e.submitter;
    if (e.defaultPrevented || f.tagName !== 'FORM' || !boosted(f)) return;
    var method = ((s && s.getAttribute('formmethod')) || f.getAttribute('method') || 'get').toLowerCase();
    var action = (s && s.getAttribute('formaction')) || f.getAttribute('action') || location.href;
    var u = new URL(action, location.href);
    if ((method !== 'get' && method !== 'post') || (f.target && f.target !== '_self') || !sameOrigin(u) || /multipart/i.test(f.enctype)) return;
    e.preventDefault();
    if (method === 'get') u.search = '';
    request(f, method, u.pathname + u.search, document.body, 'innerHTML', e, { boosted: true }).catch(function () {});
  });

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
        if (delay) timer = setTimeout(function () { fromElement(el, evt).catch(function () {}); }, delay); else fromElement(el, evt).catch(function () {});
      };
      if (name === 'load') return go(null);
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
    var swappers = slice(el.querySelectorAll('[sse-swap]'));
    if (el.hasAttribute('sse-swap')) swappers.unshift(el);
    swappers.forEach(function (sw) {
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
    var all = slice(el.querySelectorAll('[hx-get],[hx-post],[sse-connect]'));
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
    return request(document.body, verb.toLowerCase(), path, target || document.body, opts.swap || 'innerHTML', null, { values: opts.values, select: opts.select });
  };
  htmx.swap = function (target, html, spec) { settle(swap(target, (spec && spec.swapStyle) || 'innerHTML', html)); };
  document.addEventListener('DOMContentLoaded', function () {
    process(document.body);
    fire(document.body, 'htmx:load');
  });
})();

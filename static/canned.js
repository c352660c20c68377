// Parley canned replies picker — loaded by desk.js when a composer that
// offers canned replies (textarea[data-canned-script]) first gets a '#'.
// Typing '#' at the start of the composer or after a space opens a listbox
// of the agent's canned replies, filtered as they type (title, shortcut,
// text); ↑/↓ move, Enter or Tab inserts the chosen reply, Esc closes. "#"
// then a digit ("order #123") is left alone.
//
// Contract with the server (views/canned.templ, app/canned.go):
//   textarea[data-canned="/conversations/<pid>/canned"]: GET it once for
//     the list (ul#canned-options[role=listbox] > li[role=option][data-id]
//     [data-search]), POST <it>/<id> (X-CSRF-Token) for the chosen reply's
//     text, resolved for this conversation, and its link: {text, url}.
//   #canned-picker: where the list is shown. #composer-link holds the link
//     sent with the reply (input[name=link_url]); [data-remove-link] drops it.
// The list is fetched once and filtered here: a desk's replies are tens or
// hundreds, so every keystroke is answered at once, without a request.
(function () {
  'use strict';
  if (window.ParleyCanned) return; // loaded once per document
  window.ParleyCanned = { inserted: 0 };

  var lists = {}; // url -> HTML of the list, fetched once per page
  var state = null; // {ta, start, query} while the picker is open

  function picker() { return document.getElementById('canned-picker'); }
  function options() {
    var p = picker();
    return p ? Array.prototype.slice.call(p.querySelectorAll('[role=option]')) : [];
  }
  function visible() { return options().filter(function (o) { return !o.hidden; }); }
  function active() { return picker() && picker().querySelector('[role=option][aria-selected=true]'); }

  function csrf() {
    var m = document.getElementById('page-meta');
    return (m && m.dataset.csrfToken) || (document.querySelector('meta[name=csrf-token]') || {}).content || '';
  }

  // The '#query' just before the caret, if any. "#123" is a reference, not
  // a search: a query never starts with a digit, so Enter still sends it.
  function trigger(ta) {
    var before = ta.value.slice(0, ta.selectionStart);
    var m = /(^|\s)#((?:[^\s#\d][^\s#]*)?)$/.exec(before);
    if (!m || ta.selectionStart !== ta.selectionEnd) return null;
    return { start: before.length - m[2].length - 1, query: m[2] };
  }

  function close() {
    var p = picker();
    if (p) p.hidden = true;
    if (state) {
      state.ta.setAttribute('aria-expanded', 'false');
      state.ta.removeAttribute('aria-activedescendant');
    }
    state = null;
  }

  function select(o) {
    options().forEach(function (x) { x.setAttribute('aria-selected', x === o ? 'true' : 'false'); });
    if (o) {
      state.ta.setAttribute('aria-activedescendant', o.id);
      o.scrollIntoView({ block: 'nearest' });
    } else {
      state.ta.removeAttribute('aria-activedescendant');
    }
  }

  function filter() {
    var terms = state.query.toLowerCase().split(/\s+/).filter(Boolean);
    options().forEach(function (o) {
      var s = o.dataset.search || '';
      o.hidden = !terms.every(function (t) { return s.indexOf(t) >= 0; });
    });
    var p = picker();
    var list = p.querySelector('[role=listbox]');
    var none = p.querySelector('.canned-empty');
    var shown = visible();
    if (!none && list) {
      none = document.createElement('p');
      none.className = 'canned-empty';
      none.textContent = list.dataset.empty || '';
      list.parentNode.insertBefore(none, list.nextSibling);
    }
    if (none) none.hidden = shown.length > 0;
    // A shortcut typed in full comes first; otherwise the choice stays
    // where it was, or the first (most used) match.
    var q = state.query.toLowerCase();
    var exact = q && shown.filter(function (o) { return o.dataset.shortcut === q; })[0];
    var cur = active();
    select(exact || (cur && !cur.hidden ? cur : shown[0] || null));
  }

  function open(ta, t) {
    var url = ta.dataset.canned;
    var p = picker();
    if (!url || !p) return;
    var fresh = !state;
    state = { ta: ta, start: t.start, query: t.query };
    var show = function () {
      if (!state || state.ta !== ta) return;
      if (!p.querySelector('[role=listbox]')) p.innerHTML = lists[url];
      p.hidden = false;
      ta.setAttribute('aria-expanded', 'true');
      if (fresh) select(null);
      filter();
    };
    if (lists[url] !== undefined) return show();
    if (lists[url] === null) return; // being fetched
    lists[url] = null;
    fetch(url, { headers: { 'HX-Request': 'true' }, credentials: 'same-origin' })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) { lists[url] = html; show(); })
      .catch(function () { delete lists[url]; close(); });
  }

  function setLink(form, url) {
    var box = form.querySelector('#composer-link');
    if (!box) return;
    box.querySelector('input[name=link_url]').value = url;
    box.querySelector('.composer-link-url').textContent = url;
    var err = box.querySelector('.field-error');
    if (err) err.remove();
    box.classList.remove('has-error');
    box.hidden = !url;
  }

  function insert(o) {
    var s = state;
    close();
    var ta = s.ta;
    fetch(ta.dataset.canned + '/' + encodeURIComponent(o.dataset.id), {
      method: 'POST', credentials: 'same-origin',
      headers: { 'X-CSRF-Token': csrf(), 'HX-Request': 'true' }
    })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (d) {
        // The text replaces "#query" (the agent may have typed on meanwhile:
        // keep what follows the query).
        var end = s.start + 1 + s.query.length;
        if (ta.value.slice(s.start, end) !== '#' + s.query) end = s.start;
        ta.value = ta.value.slice(0, s.start) + d.text + ta.value.slice(end);
        var caret = s.start + d.text.length;
        ta.focus();
        ta.setSelectionRange(caret, caret);
        if (d.url) setLink(ta.form, d.url);
        ta.dispatchEvent(new Event('input', { bubbles: true }));
        window.ParleyCanned.inserted++;
      })
      .catch(function () {
        var p = document.getElementById('canned-options');
        var msg = (p && p.dataset.error) || '';
        document.body.dispatchEvent(new CustomEvent('toast', { detail: { level: 'error', message: msg } }));
      });
  }

  document.addEventListener('input', function (e) {
    var ta = e.target;
    if (!ta.matches || !ta.matches('textarea[data-canned]')) return;
    var t = trigger(ta);
    if (t) open(ta, t); else if (state) close();
  });

  // Capture phase: runs before desk.js's "Enter sends".
  document.addEventListener('keydown', function (e) {
    if (!state || e.target !== state.ta || picker().hidden) return;
    var shown = visible();
    var cur = active();
    var i = shown.indexOf(cur);
    switch (e.key) {
      case 'ArrowDown':
        select(shown[(i + 1) % shown.length] || null);
        break;
      case 'ArrowUp':
        select(shown[i <= 0 ? shown.length - 1 : i - 1] || null);
        break;
      case 'Enter':
      case 'Tab':
        if (e.shiftKey || !cur) { if (e.key === 'Enter' && !e.shiftKey) { close(); } return; }
        insert(cur);
        break;
      case 'Escape':
        close();
        break;
      default:
        return;
    }
    e.preventDefault();
    e.stopPropagation();
  }, true);

  document.addEventListener('mousedown', function (e) {
    var o = e.target.closest && e.target.closest('#canned-picker [role=option]');
    if (o && state) {
      e.preventDefault(); // keep the focus in the composer
      insert(o);
    } else if (state && !(e.target.closest && e.target.closest('#canned-picker'))) {
      close();
    }
  });

  document.addEventListener('click', function (e) {
    var b = e.target.closest && e.target.closest('[data-remove-link]');
    if (b && b.form) setLink(b.form, '');
  });

  // Another page (boosted navigation keeps this script's state): the list
  // may have changed meanwhile (a reply added on the Canned replies page).
  document.addEventListener('htmx:beforeRequest', function (e) { if (e.detail.boosted) lists = {}; });
  document.addEventListener('htmx:historyRestore', function () { lists = {}; });

  // A swapped composer (after sending) or another page: the picker is gone.
  document.addEventListener('htmx:afterSwap', function () {
    if (state && !document.contains(state.ta)) state = null;
  });
})();

// files.js: attachments in the desk's and the widget's composers (issue 14).
// Loaded by the attachment bar itself (views.AttachBar), so only pages with
// a composer pay for it. A file chosen with the button, dropped on the
// composer or pasted into it is uploaded at once with XHR (its progress
// shown in a chip), as the raw body (the server sniffs the type and checks
// the desk's limits before reading it whole); the server's chip replaces
// ours and its hidden "files" input goes with the next message sent.
(function () {
  'use strict';
  if (window.ParleyFiles) return;
  window.ParleyFiles = true;

  function input(form) { return form && form.querySelector('[data-attach-bar] input[type=file][data-upload]'); }
  function composerOf(el) {
    var f = el && el.closest ? el.closest('form') : null;
    return input(f) ? f : null;
  }
  function headers(form) {
    var h = {};
    var csrf = form.querySelector('input[name=_csrf]');
    if (csrf) h['X-CSRF-Token'] = csrf.value;
    if (window.ParleyVisitorHeaders) {
      var v = window.ParleyVisitorHeaders();
      for (var k in v) h[k] = v[k];
    }
    return h;
  }
  function chipCount(form) { return form.querySelectorAll('[data-attach-list] > li').length; }

  function upload(form, file) {
    var inp = input(form), list = form.querySelector('[data-attach-list]');
    var prefix = inp.className.indexOf('w-') === 0 ? 'w-' : '';
    var li = document.createElement('li');
    li.className = prefix + 'attach-chip ' + prefix + 'attach-uploading';
    var name = document.createElement('span');
    name.className = prefix + 'attach-name';
    name.textContent = file.name || 'file';
    var bar = document.createElement('progress');
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute('aria-label', inp.getAttribute('data-msg-uploading'));
    var msg = document.createElement('span');
    msg.className = prefix + 'attach-msg';
    var x = document.createElement('button');
    x.type = 'button';
    x.className = prefix + 'attach-remove';
    x.textContent = '×';
    x.setAttribute('aria-label', inp.getAttribute('data-msg-remove'));
    li.append(name, bar, msg, x);
    list.appendChild(li);
    form.parleyKey = null; // a new set of files is a new message
    var fail = function (text) {
      li.classList.remove(prefix + 'attach-uploading');
      li.classList.add(prefix + 'attach-failed');
      bar.remove();
      msg.textContent = text || inp.getAttribute('data-msg-failed');
      msg.setAttribute('role', 'alert');
    };
    var max = +inp.getAttribute('data-max-bytes');
    if (max && file.size > max) {
      fail(inp.getAttribute('data-msg-too-large').replace('{size}', size(file.size)));
      x.onclick = function () { li.remove(); };
      return;
    }
    if (chipCount(form) > +inp.getAttribute('data-per-message')) {
      fail(inp.getAttribute('data-msg-too-many'));
      x.onclick = function () { li.remove(); };
      return;
    }
    var xhr = new XMLHttpRequest();
    xhr.open('POST', inp.getAttribute('data-upload') + '?name=' + encodeURIComponent(file.name || 'file'));
    var h = headers(form);
    for (var k in h) xhr.setRequestHeader(k, h[k]);
    xhr.setRequestHeader('HX-Request', 'true');
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); };
    xhr.onload = function () {
      if (xhr.status === 200) {
        var t = document.createElement('template');
        t.innerHTML = xhr.responseText.trim();
        if (t.content.firstElementChild) li.replaceWith(t.content.firstElementChild);
        return;
      }
      var ct = xhr.getResponseHeader('Content-Type') || '';
      fail(ct.indexOf('text/plain') === 0 ? xhr.responseText : '');
    };
    xhr.onerror = function () { fail(); };
    x.onclick = function () { xhr.abort(); li.remove(); };
    xhr.send(file);
  }

  function size(n) {
    var u = ['B', 'KB', 'MB', 'GB'], i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1).replace(/\.0$/, '') : n) + ' ' + u[i];
  }
  function uploadAll(form, files) {
    for (var i = 0; i < files.length; i++) upload(form, files[i]);
  }

  document.addEventListener('change', function (e) {
    var t = e.target;
    if (!t.matches || !t.matches('input[type=file][data-upload]')) return;
    uploadAll(t.closest('form'), t.files);
    t.value = '';
  });
  document.addEventListener('paste', function (e) {
    var form = composerOf(e.target);
    var files = e.clipboardData && e.clipboardData.files;
    if (!form || !files || !files.length) return;
    e.preventDefault();
    uploadAll(form, files);
  });
  document.addEventListener('dragover', function (e) {
    var form = composerOf(e.target);
    if (!form || !e.dataTransfer || Array.prototype.indexOf.call(e.dataTransfer.types, 'Files') < 0) return;
    e.preventDefault();
    form.classList.add('attach-drop');
  });
  document.addEventListener('dragleave', function (e) {
    var form = composerOf(e.target);
    if (form && !form.contains(e.relatedTarget)) form.classList.remove('attach-drop');
  });
  document.addEventListener('drop', function (e) {
    var form = composerOf(e.target);
    if (!form || !e.dataTransfer || !e.dataTransfer.files.length) return;
    e.preventDefault();
    form.classList.remove('attach-drop');
    uploadAll(form, e.dataTransfer.files);
  });
  // The server's chip: × discards the pending upload.
  document.addEventListener('click', function (e) {
    var b = e.target.closest && e.target.closest('[data-remove-upload]');
    if (!b) return;
    var li = b.closest('[data-chip]'), form = b.closest('form'), inp = input(form);
    if (!li || !inp) return;
    var xhr = new XMLHttpRequest();
    xhr.open('POST', inp.getAttribute('data-upload') + '/' + li.getAttribute('data-chip') + '/discard');
    var h = headers(form);
    for (var k in h) xhr.setRequestHeader(k, h[k]);
    xhr.send();
    form.parleyKey = null;
    li.remove();
  });
})();

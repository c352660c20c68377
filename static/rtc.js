// Parley remote support over WebRTC (issue 11): screen sharing either way,
// audio and video calls, the agent's pointer and short-lived drawings over
// the customer's view of what they share. Plain browser RTCPeerConnection;
// no framework, no build. Fetched on first use only, by the small hook in
// desk.js or widget-frame.js (window.ParleyRTCBoot: the queued "rtc" stream
// events and clicks, and the request headers of this side).
//
// Signalling: POST <base>/:sid/signals {kind, payload} stores a message for
// the other side; its id arrives on the other side's stream as an "rtc"
// event {pid, media, signal, from}, and the addressee GETs
// <base>/signals/:id. Transitions arrive as {pid, media, state}.
// The side that accepts (the customer) makes the offer; ICE candidates are
// sent in small batches (trickle), applied in order.
(function () {
  'use strict';
  var boot = window.ParleyRTCBoot;
  if (!boot || window.ParleyRTC) return;
  var desk = boot.side === 'desk';
  var panel = function () { return document.getElementById(desk ? 'rtc-panel' : 'w-rtc'); };
  var stage = function () { return document.getElementById(desk ? 'rtc-stage' : 'w-rtc-stage'); };
  var msg = function (name) {
    var el = desk ? stage() : panel();
    return (el && el.getAttribute('data-msg-' + name)) || '';
  };
  var conv = function () { var p = panel(); return p ? p.getAttribute('data-conv') || '' : ''; };
  var base = function (c) { return (desk ? '/conversations/' : '/widget/conversations/') + encodeURIComponent(c || (S && S.conv) || conv()) + '/rtc'; };
  var me = function () { return desk ? (panel() && panel().getAttribute('data-me')) || '' : 'customer'; };

  // Link the stylesheet once (it is part of this feature's weight).
  (function () {
    var src = document.querySelector('[data-rtc-src]');
    if (!src || document.getElementById('rtc-css')) return;
    var l = document.createElement('link');
    l.id = 'rtc-css'; l.rel = 'stylesheet'; l.href = src.getAttribute('data-rtc-css');
    document.head.appendChild(l);
  })();

  function req(method, path, body, json, keepalive, c) {
    var h = boot.headers();
    var init = { method: method, headers: h, credentials: 'same-origin', keepalive: !!keepalive };
    if (json) { h['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); } else if (body) { init.body = new URLSearchParams(body); }
    return fetch(base(c) + path, init).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) { var e = new Error(j.error || ('HTTP ' + r.status)); e.status = r.status; throw e; }
        return j;
      });
    });
  }

  function notice(text) {
    if (!text) return;
    if (boot.toast) { boot.toast(text); return; }
    var st = stage();
    if (!st) return;
    var p = document.createElement('p');
    p.className = 'rtc-notice'; p.setAttribute('role', 'alert'); p.textContent = text;
    st.parentNode.insertBefore(p, st);
    setTimeout(function () { p.remove(); }, 15000);
  }

  // ---- the session of this page --------------------------------------------
  // At most one: the conversation has one running session.
  var S = null;
  var seen = {};
  var metrics = { requested: 0, accepted: 0, connected: 0, firstFrame: 0 };

  function session(pid, media) {
    if (S && S.pid === pid) return S;
    if (S) teardown();
    S = { pid: pid, media: media, conv: conv(), pc: null, local: null, remote: null, dc: null, ice: [], iceTimer: null, chain: Promise.resolve(), started: false };
    return S;
  }

  function teardown() {
    if (!S) return;
    var s = S; S = null;
    clearTimeout(s.noAnswer); clearTimeout(s.iceTimer); clearTimeout(s.dropTimer);
    if (s.local) s.local.getTracks().forEach(function (t) { t.stop(); });
    if (s.pc) { try { s.pc.close(); } catch (e) { /* closed */ } }
    var st = stage();
    if (st) { st.textContent = ''; st.hidden = true; }
    closeViewer();
  }

  function ensurePC(s) {
    if (s.pc) return Promise.resolve(s.pc);
    return req('GET', '/ice?session=' + encodeURIComponent(s.pid)).then(function (ice) {
      if (s !== S) throw new Error('gone');
      var pc = new RTCPeerConnection({ iceServers: ice.iceServers || [], iceTransportPolicy: ice.iceTransportPolicy || 'all' });
      s.pc = pc;
      pc.onicecandidate = function (e) {
        if (!e.candidate) return;
        s.ice.push(e.candidate.toJSON());
        if (!s.iceTimer) s.iceTimer = setTimeout(function () { flushICE(s); }, 80);
      };
      pc.ontrack = function (e) {
        // One stream for everything the other side sends (a video call's
        // sound and picture play in one element).
        var first = !s.remote;
        if (first) s.remote = new MediaStream();
        s.remote.addTrack(e.track);
        if (first) showRemote(s, s.remote);
        else { var el = stage() && stage().querySelector('.rtc-remote'); if (el && el.tagName === 'AUDIO' && e.track.kind === 'video') { el.remove(); showRemote(s, s.remote); } }
      };
      pc.ondatachannel = function (e) { s.dc = e.channel; };
      pc.onconnectionstatechange = function () {
        if (s !== S) return;
        var st = pc.connectionState;
        if (st === 'connected') {
          clearTimeout(s.dropTimer);
          if (!metrics.connected) metrics.connected = Date.now();
          started(s);
        } else if (st === 'failed') {
          end('failed', msg('failed'));
        } else if (st === 'disconnected') {
          clearTimeout(s.dropTimer);
          s.dropTimer = setTimeout(function () { if (S === s && pc.connectionState !== 'connected') end('failed', msg('failed')); }, 6000);
        }
      };
      return pc;
    });
  }

  function flushICE(s) {
    s.iceTimer = null;
    if (!s.ice.length || s !== S) return;
    var batch = s.ice; s.ice = [];
    send(s, 'ice', batch);
  }

  function send(s, kind, payload) {
    return req('POST', '/' + encodeURIComponent(s.pid) + '/signals', { kind: kind, payload: payload }, true).catch(function () { /* the session ended */ });
  }

  function started(s) {
    if (s.started) return;
    s.started = true;
    req('POST', '/' + encodeURIComponent(s.pid) + '/start', {}).catch(function () {});
  }

  // end stops this side and tells the server (the other side hears it as
  // the ended transition).
  function end(reason, text) {
    if (!S) return;
    var pid = S.pid, c = S.conv;
    teardown();
    notice(text);
    return req('POST', '/' + encodeURIComponent(pid) + '/end', { reason: reason }, false, true, c).catch(function () {});
  }

  // ---- media on screen --------------------------------------------------------
  function video(stream, muted, cls) {
    var v = document.createElement('video');
    v.autoplay = true; v.playsInline = true; v.muted = !!muted; v.className = cls || '';
    v.srcObject = stream;
    var p = v.play(); if (p && p.catch) p.catch(function () {});
    return v;
  }

  function button(label, attr, onclick) {
    var b = document.createElement('button');
    b.type = 'button'; b.className = desk ? 'btn btn-sm' : 'w-btn'; b.textContent = label;
    if (attr) b.setAttribute(attr, '');
    if (onclick) b.addEventListener('click', onclick);
    return b;
  }

  function firstFrame(v, s) {
    var done = function () {
      if (s !== S || s.framed) return;
      s.framed = true;
      if (!metrics.firstFrame) metrics.firstFrame = Date.now();
      started(s);
    };
    if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(done); else v.addEventListener('playing', done, { once: true });
  }

  function showRemote(s, stream) {
    if (s !== S) return;
    var st = stage();
    if (!st) return;
    st.hidden = false;
    var wantsVideo = s.media === 'video' || (desk ? s.media === 'screen' : s.media === 'agent_screen');
    if (!wantsVideo) {
      // A voice call: an audio element, nothing to see.
      var a = document.createElement('audio');
      a.className = 'rtc-remote'; a.autoplay = true; a.srcObject = stream;
      st.appendChild(a);
      var pa = a.play(); if (pa && pa.catch) pa.catch(function () {});
      return;
    }
    var v = video(stream, false, 'rtc-remote rtc-thumb');
    firstFrame(v, s);
    var box = document.createElement('div');
    box.className = 'rtc-thumb-box';
    box.appendChild(v);
    st.insertBefore(box, st.firstChild);
    if (desk && s.media === 'screen') {
      v.title = msg('expand');
      v.addEventListener('dblclick', function () { openViewer(v); });
      var bar = document.createElement('div');
      bar.className = 'rtc-bar';
      bar.appendChild(button(msg('expand'), 'data-rtc-expand', function () { openViewer(v); }));
      st.appendChild(bar);
      var hint = document.createElement('p');
      hint.className = 'hint'; hint.textContent = msg('pointer');
      st.appendChild(hint);
      pointerSource(v, s);
    }
  }

  function showLocal(s) {
    var st = stage();
    if (!st || !s.local) return;
    st.hidden = false;
    if (s.media === 'video' || (!desk && s.media === 'screen')) {
      var wrap = document.createElement('div');
      wrap.className = 'rtc-self-box';
      var v = video(s.local, true, 'rtc-self');
      wrap.appendChild(v);
      if (!desk && s.media === 'screen') {
        // The customer's own view of what they share, with the agent's
        // pointer and drawings over it.
        var c = document.createElement('canvas');
        c.className = 'rtc-overlay';
        wrap.appendChild(c);
        s.overlay = c; s.selfVideo = v;
      }
      st.appendChild(wrap);
    }
    if (desk && (s.media === 'audio' || s.media === 'video')) callControls(s, st);
  }

  function callControls(s, st) {
    if (st.querySelector('.rtc-call-bar')) return;
    var bar = document.createElement('div');
    bar.className = 'rtc-bar rtc-call-bar';
    bar.appendChild(button(msg('mute'), 'data-rtc-mute'));
    if (s.media === 'video') bar.appendChild(button(msg('camera-off'), 'data-rtc-camera'));
    st.appendChild(bar);
  }

  function toggle(kind, b) {
    if (!S || !S.local) return;
    var tracks = kind === 'audio' ? S.local.getAudioTracks() : S.local.getVideoTracks();
    var on = tracks.length && !tracks[0].enabled;
    tracks.forEach(function (t) { t.enabled = on; });
    if (kind === 'audio') b.textContent = on ? msg('mute') : msg('unmute');
    else b.textContent = on ? msg('camera-off') : msg('camera-on');
    b.setAttribute('aria-pressed', on ? 'false' : 'true');
  }

  // ---- the expanded viewer (desk) -----------------------------------------------
  var viewer = null;
  function openViewer(thumb) {
    if (viewer || !S) return;
    viewer = document.createElement('div');
    viewer.className = 'rtc-viewer rtc-fit';
    viewer.setAttribute('role', 'dialog');
    viewer.setAttribute('aria-label', msg('expand'));
    var bar = document.createElement('div');
    bar.className = 'rtc-viewer-bar';
    var fit = button(msg('full'), 'data-rtc-fit', function () {
      var isFit = viewer.classList.toggle('rtc-fit');
      fit.textContent = isFit ? msg('full') : msg('fit');
    });
    bar.appendChild(fit);
    bar.appendChild(button(msg('close'), 'data-rtc-close', closeViewer));
    var scroller = document.createElement('div');
    scroller.className = 'rtc-viewer-body';
    var v = video(thumb.srcObject, true, 'rtc-big');
    v.addEventListener('dblclick', closeViewer);
    scroller.appendChild(v);
    viewer.appendChild(bar);
    viewer.appendChild(scroller);
    document.body.appendChild(viewer);
    pointerSource(v, S);
  }
  function closeViewer() {
    if (!viewer) return;
    viewer.remove(); viewer = null;
  }
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape') closeViewer(); });

  // ---- pointer and drawings (agent → customer, over the data channel) ------------
  // Positions are fractions of the shared picture (what object-fit shows), so
  // they land on the same spot of the customer's screen whatever the sizes.
  function frac(v, e) {
    var r = v.getBoundingClientRect();
    var vw = v.videoWidth || r.width, vh = v.videoHeight || r.height;
    var scale = Math.min(r.width / vw, r.height / vh);
    var w = vw * scale, h = vh * scale;
    var x = (e.clientX - r.left - (r.width - w) / 2) / w, y = (e.clientY - r.top - (r.height - h) / 2) / h;
    if (x < 0 || y < 0 || x > 1 || y > 1) return null;
    return [Math.round(x * 1e4) / 1e4, Math.round(y * 1e4) / 1e4];
  }
  function pointerSource(v, s) {
    var last = 0, drawing = null;
    var out = function (m) { if (s.dc && s.dc.readyState === 'open') s.dc.send(JSON.stringify(m)); };
    v.addEventListener('pointermove', function (e) {
      var p = frac(v, e);
      if (!p) return;
      if (drawing) { out({ t: 'l', a: drawing, b: p }); drawing = p; return; }
      var now = Date.now();
      if (now - last < 33) return;
      last = now;
      out({ t: 'p', x: p[0], y: p[1] });
    });
    v.addEventListener('pointerdown', function (e) { drawing = frac(v, e); });
    window.addEventListener('pointerup', function () { drawing = null; });
    v.addEventListener('pointerleave', function () { drawing = null; out({ t: 'h' }); });
  }
  // The customer's overlay: the pointer, and lines that fade in 4 s.
  var marks = { pointer: null, lines: [] };
  function onPointer(m) {
    var s = S;
    if (!s || !s.overlay) return;
    if (m.t === 'p') marks.pointer = { x: +m.x, y: +m.y, at: Date.now() };
    else if (m.t === 'h') marks.pointer = null;
    else if (m.t === 'l' && m.a && m.b) marks.lines.push({ a: m.a, b: m.b, at: Date.now() });
    api.lastPointer = m;
    if (!marks.raf) marks.raf = requestAnimationFrame(paint);
  }
  function paint() {
    marks.raf = 0;
    var s = S;
    if (!s || !s.overlay) return;
    var c = s.overlay, v = s.selfVideo;
    var w = c.clientWidth, h = c.clientHeight;
    if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
    var vw = v.videoWidth || w, vh = v.videoHeight || h, k = Math.min(w / vw, h / vh);
    var pw = vw * k, ph = vh * k, ox = (w - pw) / 2, oy = (h - ph) / 2;
    var g = c.getContext('2d');
    g.clearRect(0, 0, w, h);
    var now = Date.now();
    marks.lines = marks.lines.filter(function (l) { return now - l.at < 4000; });
    g.lineWidth = 3; g.lineCap = 'round';
    marks.lines.forEach(function (l) {
      g.strokeStyle = 'rgba(239,68,68,' + (1 - (now - l.at) / 4000) + ')';
      g.beginPath(); g.moveTo(ox + l.a[0] * pw, oy + l.a[1] * ph); g.lineTo(ox + l.b[0] * pw, oy + l.b[1] * ph); g.stroke();
    });
    var p = marks.pointer;
    if (p && now - p.at < 5000) {
      g.fillStyle = 'rgba(239,68,68,.85)'; g.strokeStyle = '#fff'; g.lineWidth = 2;
      g.beginPath(); g.arc(ox + p.x * pw, oy + p.y * ph, 7, 0, 2 * Math.PI); g.fill(); g.stroke();
    }
    if (marks.lines.length || (p && now - p.at < 5000)) marks.raf = requestAnimationFrame(paint);
  }

  // ---- the customer's answer and offer ----------------------------------------------
  function capture(media) {
    var md = navigator.mediaDevices;
    if (media === 'screen') {
      if (!md || !md.getDisplayMedia) return Promise.reject(Object.assign(new Error('unsupported'), { name: 'Unsupported' }));
      return md.getDisplayMedia({ video: true, audio: false });
    }
    if (media === 'audio' || media === 'video') {
      if (!md || !md.getUserMedia) return Promise.reject(Object.assign(new Error('unsupported'), { name: 'Unsupported' }));
      return md.getUserMedia({ audio: true, video: media === 'video' });
    }
    return Promise.resolve(null); // agent_screen: the customer only watches
  }

  function failure(err) {
    if (err && err.name === 'Unsupported') return { reason: 'unsupported', text: msg('unsupported') };
    return { reason: 'denied', text: msg('denied') };
  }

  function accept() {
    var p = panel();
    var pid = p && p.getAttribute('data-session'), media = p && p.getAttribute('data-media');
    if (!pid) return;
    var s = session(pid, media);
    capture(media).then(function (stream) {
      s.local = stream;
      return req('POST', '/' + encodeURIComponent(pid) + '/answer', { accept: '1' });
    }).then(function () {
      metrics.accepted = Date.now();
      return ensurePC(s);
    }).then(function (pc) {
      if (s.local) {
        s.local.getTracks().forEach(function (t) {
          pc.addTrack(t, s.local);
          // The browser's own "Stop sharing" ends the session.
          t.addEventListener('ended', function () { if (S === s) end('hangup'); });
        });
      }
      if (media === 'agent_screen') pc.addTransceiver('video', { direction: 'recvonly' });
      if (media === 'screen') {
        s.dc = pc.createDataChannel('pointer');
        s.dc.onmessage = function (e) { try { onPointer(JSON.parse(e.data)); } catch (x) { /* not ours */ } };
      }
      showLocal(s);
      return pc.createOffer().then(function (o) { return pc.setLocalDescription(o); }).then(function () {
        return send(s, 'offer', { type: pc.localDescription.type, sdp: pc.localDescription.sdp });
      });
    }).catch(function (err) {
      if (S !== s) return;
      var f = failure(err);
      teardown();
      notice(f.text);
      req('POST', '/' + encodeURIComponent(pid) + '/answer', { accept: '0', reason: f.reason }).catch(function () {
        // Accepted already (the failure came later): end it instead.
        req('POST', '/' + encodeURIComponent(pid) + '/end', { reason: 'failed' }).catch(function () {});
      });
    });
  }

  function decline() {
    var p = panel();
    var pid = p && p.getAttribute('data-session');
    if (pid) req('POST', '/' + encodeURIComponent(pid) + '/answer', { accept: '0' }).catch(function () {});
  }

  // ---- the agent's request ------------------------------------------------------------
  function request(kind) {
    var pre = Promise.resolve(null);
    if (kind === 'agent_screen') {
      var md = navigator.mediaDevices;
      if (!md || !md.getDisplayMedia) { notice(msg('unsupported')); return; }
      pre = md.getDisplayMedia({ video: true, audio: false });
    }
    var local = null;
    pre.then(function (stream) {
      local = stream;
      metrics.requested = Date.now();
      metrics.firstFrame = 0; metrics.connected = 0;
      return req('POST', '', { kind: kind });
    }).then(function (j) {
      var s = session(j.pid, j.media);
      s.local = local;
      s.noAnswer = setTimeout(function () {
        var p = panel();
        if (S === s && p && p.getAttribute('data-state') === 'requested') end('no_answer');
      }, 90000);
      if (local) local.getTracks().forEach(function (t) { t.addEventListener('ended', function () { if (S === s) end('hangup'); }); });
    }).catch(function (err) {
      if (local) local.getTracks().forEach(function (t) { t.stop(); });
      notice(err && err.status ? err.message : msg('denied'));
    });
  }

  // The agent answers the customer's offer with its own media (the call's
  // microphone and camera, or the screen it shares).
  function answerOffer(s, offer) {
    return ensurePC(s).then(function (pc) {
      var media = s.media;
      var get = (media === 'audio' || media === 'video') && !s.local ? capture(media) : Promise.resolve(s.local);
      return get.then(function (stream) {
        s.local = stream;
        return pc.setRemoteDescription(offer).then(function () {
          if (stream) {
            stream.getTracks().forEach(function (t) {
              var tr = pc.getTransceivers().filter(function (x) { return x.receiver.track && x.receiver.track.kind === t.kind && !x.sender.track; })[0];
              if (tr) {
                tr.direction = 'sendrecv';
                if (tr.sender.setStreams) tr.sender.setStreams(stream);
                return tr.sender.replaceTrack(t);
              }
              pc.addTrack(t, stream);
            });
          }
          showLocal(s);
          return pc.createAnswer();
        }).then(function (a) { return pc.setLocalDescription(a); }).then(function () {
          return send(s, 'answer', { type: pc.localDescription.type, sdp: pc.localDescription.sdp });
        });
      });
    }).catch(function (err) {
      if (S === s) end(err && err.name === 'NotAllowedError' ? 'denied' : 'failed', err && err.name === 'NotAllowedError' ? msg('denied') : msg('failed'));
    });
  }

  // ---- stream events --------------------------------------------------------------------
  function onEvent(raw) {
    var m;
    try { m = JSON.parse(raw); } catch (e) { return; }
    if (m.signal) {
      if (seen[m.signal]) return;
      seen[m.signal] = 1;
      if (!S || S.pid !== m.pid) {
        // After a reload the agent's page takes up its own running session.
        var p = panel();
        if (!p || p.getAttribute('data-session') !== m.pid) return;
        session(m.pid, m.media);
      }
      var s = S;
      s.chain = s.chain.then(function () {
        return req('GET', '/signals/' + m.signal).then(function (sig) {
          if (S !== s) return;
          var pl = sig.payload;
          if (sig.kind === 'offer') return answerOffer(s, pl);
          if (sig.kind === 'answer') return s.pc && s.pc.setRemoteDescription(pl);
          if (sig.kind === 'ice' && s.pc) {
            return Promise.all((Array.isArray(pl) ? pl : [pl]).map(function (c) { return s.pc.addIceCandidate(c).catch(function () {}); }));
          }
          if (sig.kind === 'bye') teardown();
        }).catch(function () { /* gone: the session ended */ });
      });
      return;
    }
    if (m.state === 'declined' || m.state === 'ended') {
      if (S && S.pid === m.pid) teardown();
      return;
    }
    if (m.state === 'accepted' && S && S.pid === m.pid) metrics.accepted = Date.now();
  }

  function drain() {
    var q = boot.queue.splice(0);
    q.forEach(onEvent);
  }

  function click(b) {
    if (b.hasAttribute('data-rtc-request')) request(b.getAttribute('data-rtc-request'));
    else if (b.hasAttribute('data-rtc-accept')) accept();
    else if (b.hasAttribute('data-rtc-decline')) decline();
    else if (b.hasAttribute('data-rtc-mute')) toggle('audio', b);
    else if (b.hasAttribute('data-rtc-camera')) toggle('video', b);
    else if (b.hasAttribute('data-rtc-end')) {
      var p = panel();
      var pid = (S && S.pid) || (p && p.getAttribute('data-session'));
      if (!pid) return;
      var state = p && p.getAttribute('data-state');
      if (!S) session(pid, p.getAttribute('data-media'));
      end(state === 'requested' ? (desk ? 'cancelled' : 'hangup') : 'hangup');
    }
  }

  document.addEventListener('click', function (e) {
    var b = e.target.closest && e.target.closest('[data-rtc-request],[data-rtc-end],[data-rtc-accept],[data-rtc-decline],[data-rtc-mute],[data-rtc-camera]');
    if (b) { e.preventDefault(); click(b); }
  });
  // Leaving the conversation (boosted navigation) ends what runs here.
  document.addEventListener('htmx:afterSettle', function () {
    if (S && conv() !== S.conv) end('left');
  });
  // Closing the page ends what runs (the other side sees "left").
  window.addEventListener('pagehide', function () { if (S) end('left'); });

  var api = window.ParleyRTC = { drain: drain, metrics: metrics, lastPointer: null, session: function () { return S; } };
  drain();
  boot.clicks.splice(0).forEach(click);
})();

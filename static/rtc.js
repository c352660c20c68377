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
// The side that accepts makes the offer (the customer for what an agent
// asks, the agent for the customer's call); ICE candidates are sent in
// small batches (trickle), applied in order.
//
// Calls are a small mesh (models.MaxCallMembers people): every pair of
// browsers has its own RTCPeerConnection (S.peers, by the other side's
// signalling name; every signal names its addressee). An agent who joins a
// running call offers a connection to everyone in it; an agent who leaves
// closes theirs, and the others close theirs with that agent.
// While one of its connections is up, each browser sends a heartbeat
// (POST <base>/:sid/alive every 30 s): the server's reaper ends a session
// nobody is connected to any more.
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
  var HEARTBEAT = 30000;

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
    S = { pid: pid, media: media, conv: conv(), pc: null, local: null, remote: null, dc: null, peers: {}, chain: Promise.resolve(), started: false };
    var s = S;
    s.catchUp = setInterval(function () { catchUp(s); }, 2500);
    return S;
  }

  // catchUp asks for the session's signals to this side that its stream
  // has not brought (an id lost to a stream that resumed past it), while a
  // connection is not up yet or has dropped.
  function catchUp(s) {
    if (S !== s) { clearInterval(s.catchUp); return; }
    var keys = Object.keys(s.peers);
    // (A peer known only by candidates that came first waits for its offer
    // 30 s at most: late candidates of one who left make no such wait.)
    keys = keys.filter(function (k) { var P = s.peers[k]; return P.pc || P.pending || Date.now() - P.at < 30000; });
    if (keys.length && keys.every(function (k) { var pc = s.peers[k].pc; return pc && pc.connectionState === 'connected'; })) return;
    // All of them (a session has tens): a lost id may sit below one seen.
    req('GET', '/' + encodeURIComponent(s.pid) + '/signals').then(function (sigs) {
      (sigs || []).forEach(function (sig) {
        if (seen[sig.id] || S !== s) return;
        seen[sig.id] = 1;
        s.chain = s.chain.then(function () { return handleSignal(s, sig); }).catch(function () { /* gone */ });
      });
    }).catch(function () { /* the session ended, or offline: the next tick asks again */ });
  }

  function teardown() {
    if (!S) return;
    var s = S; S = null;
    clearTimeout(s.noAnswer); clearInterval(s.beat); clearInterval(s.catchUp);
    if (s.local) s.local.getTracks().forEach(function (t) { t.stop(); });
    Object.keys(s.peers).forEach(function (k) { closePeer(s, k, true); });
    var st = stage();
    if (st) { st.textContent = ''; st.hidden = true; }
    closeViewer();
  }

  // iceConfig is the session's ICE servers (with TURN credentials), once.
  function iceConfig(s) {
    if (!s.iceCfg) s.iceCfg = req('GET', '/ice?session=' + encodeURIComponent(s.pid));
    return s.iceCfg;
  }

  // ensurePC is the connection with peer (the other side's signalling
  // name; '' means the session's other side: the customer's agent, or the
  // customer). The first one is also s.pc.
  function ensurePC(s, peer) {
    peer = peer || otherSide();
    var P = s.peers[peer];
    if (P && P.pc) return Promise.resolve(P.pc);
    if (!P) P = s.peers[peer] = { peer: peer, pc: null, remote: null, ice: [], iceTimer: null };
    if (P.pending) return P.pending;
    P.pending = iceConfig(s).then(function (ice) {
      if (s !== S || s.peers[peer] !== P) throw new Error('gone');
      var pc = new RTCPeerConnection({ iceServers: ice.iceServers || [], iceTransportPolicy: ice.iceTransportPolicy || 'all' });
      P.pc = pc;
      if (!s.pc) s.pc = pc;
      pc.onicecandidate = function (e) {
        if (!e.candidate) return;
        P.ice.push(e.candidate.toJSON());
        if (!P.iceTimer) P.iceTimer = setTimeout(function () { flushICE(s, P); }, 80);
      };
      pc.ontrack = function (e) {
        // One stream per peer for everything it sends (a video call's
        // sound and picture play in one element).
        var first = !P.remote;
        if (first) P.remote = new MediaStream();
        if (!s.remote) s.remote = P.remote;
        P.remote.addTrack(e.track);
        if (first) showRemote(s, P.remote, peer);
        else { var el = stage() && stage().querySelector('.rtc-remote[data-peer="' + peer + '"]'); if (el && el.tagName === 'AUDIO' && e.track.kind === 'video') { el.remove(); showRemote(s, P.remote, peer); } }
      };
      pc.ondatachannel = function (e) { s.dc = e.channel; };
      pc.onconnectionstatechange = function () {
        if (s !== S || s.peers[peer] !== P) return;
        var st = pc.connectionState;
        if (st === 'connected') {
          clearTimeout(P.dropTimer);
          if (!metrics.connected) metrics.connected = Date.now();
          started(s);
          heartbeat(s);
        } else if (st === 'failed') {
          dropPeer(s, peer);
        } else if (st === 'disconnected') {
          clearTimeout(P.dropTimer);
          P.dropTimer = setTimeout(function () { if (S === s && s.peers[peer] === P && pc.connectionState !== 'connected') dropPeer(s, peer); }, 6000);
        }
      };
      return pc;
    });
    return P.pending;
  }

  // otherSide is the session's other side in a two-party session.
  function otherSide() {
    if (!desk) { var p = panel(); return (p && p.getAttribute('data-agent')) || ''; }
    return 'customer';
  }

  // dropPeer: the connection with peer failed. In a call with others it
  // is closed alone; otherwise the session ends.
  function dropPeer(s, peer) {
    var others = Object.keys(s.peers).filter(function (k) { return k !== peer && s.peers[k].pc && s.peers[k].pc.connectionState === 'connected'; });
    if (others.length) { closePeer(s, peer); return; }
    end('failed', msg('failed'));
  }

  function closePeer(s, peer, quiet) {
    var P = s.peers[peer];
    if (!P) return;
    delete s.peers[peer];
    clearTimeout(P.iceTimer); clearTimeout(P.dropTimer);
    if (P.pc) { try { P.pc.close(); } catch (e) { /* closed */ } }
    if (s.pc === P.pc) s.pc = null;
    if (quiet) return;
    var st = stage();
    if (st) st.querySelectorAll('[data-peer="' + peer + '"]').forEach(function (el) { (el.closest('.rtc-thumb-box') || el).remove(); });
  }

  // heartbeat tells the server, every 30 s while a connection is up, that
  // this browser is still in the session (models.MediaAlive).
  function heartbeat(s) {
    if (s.beat) return;
    var beat = function () {
      if (s !== S) return;
      var up = Object.keys(s.peers).some(function (k) { var pc = s.peers[k].pc; return pc && pc.connectionState === 'connected'; });
      if (!up) return;
      req('POST', '/' + encodeURIComponent(s.pid) + '/alive', {}).catch(function (e) { if (e.status === 410 && S === s) teardown(); });
    };
    s.beat = setInterval(beat, HEARTBEAT);
  }

  function flushICE(s, P) {
    P.iceTimer = null;
    if (!P.ice.length || s !== S) return;
    var batch = P.ice; P.ice = [];
    send(s, 'ice', batch, P.peer);
  }

  // send stores this side's signals one after another, so that the other
  // side gets them in the order they were made (an offer or answer before
  // its candidates).
  function send(s, kind, payload, to) {
    s.out = (s.out || Promise.resolve()).then(function () {
      return req('POST', '/' + encodeURIComponent(s.pid) + '/signals', { kind: kind, to: to || '', payload: payload }, true).catch(function () { /* the session ended */ });
    });
    return s.out;
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

  function showRemote(s, stream, peer) {
    if (s !== S) return;
    var st = stage();
    if (!st) return;
    st.hidden = false;
    var wantsVideo = s.media === 'video' || (desk ? s.media === 'screen' : s.media === 'agent_screen');
    if (!wantsVideo) {
      // A voice call: an audio element per peer, nothing to see.
      var a = document.createElement('audio');
      a.className = 'rtc-remote'; a.autoplay = true; a.srcObject = stream;
      a.setAttribute('data-peer', peer || '');
      st.appendChild(a);
      var pa = a.play(); if (pa && pa.catch) pa.catch(function () {});
      return;
    }
    var v = video(stream, false, 'rtc-remote rtc-thumb');
    v.setAttribute('data-peer', peer || '');
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
    if (!st || !s.local || s.shown) return;
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
    s.shown = true;
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
    if (desk) { acceptCall(); return; }
    var p = panel();
    var pid = p && p.getAttribute('data-session'), media = p && p.getAttribute('data-media');
    if (!pid) return;
    var s = session(pid, media);
    capture(media).then(function (stream) {
      s.local = stream;
      return req('POST', '/' + encodeURIComponent(pid) + '/answer', { accept: '1' });
    }).then(function () {
      metrics.accepted = Date.now();
      return ensurePC(s, p.getAttribute('data-agent') || '');
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
        return send(s, 'offer', { type: pc.localDescription.type, sdp: pc.localDescription.sdp }, p.getAttribute('data-agent') || '');
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
    if (desk && p && p.hasAttribute('data-by-customer')) {
      var sid = p.getAttribute('data-session');
      if (sid) req('POST', '/' + encodeURIComponent(sid) + '/answer', { accept: '0' }).catch(function (e) { notice(e.message); });
      return;
    }
    var pid = p && p.getAttribute('data-session');
    if (pid) req('POST', '/' + encodeURIComponent(pid) + '/answer', { accept: '0' }).catch(function () {});
  }

  // ---- the agent's request ------------------------------------------------------------
  function request(kind) {
    var pre = Promise.resolve(null);
    if (!desk) pre = capture(kind); // the customer's call: microphone (and camera) first
    else if (kind === 'agent_screen') {
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
      if (!desk) return; // the customer's call: the reaper ends it if nobody answers
      s.noAnswer = setTimeout(function () {
        var p = panel();
        if (S === s && p && p.getAttribute('data-state') === 'requested') end('no_answer');
      }, 90000);
      if (local) local.getTracks().forEach(function (t) { t.addEventListener('ended', function () { if (S === s) end('hangup'); }); });
    }).catch(function (err) {
      if (local) local.getTracks().forEach(function (t) { t.stop(); });
      notice(err && err.status ? err.message : (err && err.name === 'Unsupported' ? msg('unsupported') : msg('denied')));
    });
  }

  // The agent answers the customer's offer with its own media (the call's
  // microphone and camera, or the screen it shares).
  function answerOffer(s, offer, from) {
    return ensurePC(s, from).then(function (pc) {
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
          return earlyICE(s.peers[from || otherSide()] || {});
        }).then(function () {
          return pc.createAnswer();
        }).then(function (a) { return pc.setLocalDescription(a); }).then(function () {
          return send(s, 'answer', { type: pc.localDescription.type, sdp: pc.localDescription.sdp }, from);
        });
      });
    }).catch(function (err) {
      if (S === s && Object.keys(s.peers).length > 1) { closePeer(s, from); return; }
      if (S === s) end(err && err.name === 'NotAllowedError' ? 'denied' : 'failed', err && err.name === 'NotAllowedError' ? msg('denied') : msg('failed'));
    });
  }

  // ---- stream events --------------------------------------------------------------------
  // handleSignal applies one signal addressed to this side.
  function handleSignal(s, sig) {
    if (S !== s) return;
    var pl = sig.payload, P = s.peers[sig.from];
    if (sig.kind === 'offer') return answerOffer(s, pl, sig.from);
    if (sig.kind === 'answer') return P && P.pc && P.pc.setRemoteDescription(pl).then(function () { return earlyICE(P); });
    if (sig.kind === 'ice') {
      // Candidates that come before the description they belong to (its
      // POST was slower) wait for it: one dropped relay candidate is a
      // connection that never comes up.
      if (!P) P = s.peers[sig.from] = { peer: sig.from, pc: null, remote: null, ice: [], iceTimer: null, at: Date.now() };
      P.early = (P.early || []).concat(Array.isArray(pl) ? pl : [pl]);
      return earlyICE(P);
    }
    if (sig.kind === 'bye') closePeer(s, sig.from);
  }

  // earlyICE applies the candidates received for P once its connection
  // has the other side's description.
  function earlyICE(P) {
    if (!P.pc || !P.pc.remoteDescription || !P.early || !P.early.length) return;
    var cs = P.early.splice(0);
    return Promise.all(cs.map(function (c) { return P.pc.addIceCandidate(c).catch(function () {}); }));
  }

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
        return req('GET', '/signals/' + m.signal).then(function (sig) { return handleSignal(s, sig); })
          .catch(function () { /* gone: the session ended */ });
      });
      return;
    }
    if (m.state === 'declined' || m.state === 'ended') {
      if (S && S.pid === m.pid) teardown();
      return;
    }
    if (m.change === 'left' && S && S.pid === m.pid) {
      if (m.peer === me()) teardown(); else closePeer(S, m.peer);
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
    else if (b.hasAttribute('data-rtc-join')) join();
    else if (b.hasAttribute('data-rtc-end')) {
      var p = panel();
      var pid = (S && S.pid) || (p && p.getAttribute('data-session'));
      if (!pid) return;
      var state = p && p.getAttribute('data-state');
      // An agent in a call with other agents leaves it; it goes on.
      if (desk && p && p.hasAttribute('data-in-call') && agentsBesidesMe(p).length) { leave(pid); return; }
      if (!S) session(pid, p.getAttribute('data-media'));
      end(state === 'requested' ? (desk ? 'cancelled' : 'hangup') : 'hangup');
    }
  }

  // ---- conferences and the customer's calls -----------------------------------------
  function agentsBesidesMe(p) {
    return (p.getAttribute('data-peers') || '').split(' ').filter(function (x) { return x && x !== 'customer' && x !== me(); });
  }

  // offerTo opens this side's connection to peer with its media.
  function offerTo(s, peer) {
    return ensurePC(s, peer).then(function (pc) {
      if (s.local) s.local.getTracks().forEach(function (t) { pc.addTrack(t, s.local); });
      if (s.media === 'video' && (!s.local || !s.local.getVideoTracks().length)) pc.addTransceiver('video', { direction: 'recvonly' });
      return pc.createOffer().then(function (o) { return pc.setLocalDescription(o); }).then(function () {
        return send(s, 'offer', { type: pc.localDescription.type, sdp: pc.localDescription.sdp }, peer);
      });
    });
  }

  // acceptCall: an agent answers the customer's call, then offers.
  function acceptCall() {
    var p = panel();
    var pid = p && p.getAttribute('data-session'), media = p && p.getAttribute('data-media');
    if (!pid) return;
    var s = session(pid, media);
    capture(media).then(function (stream) {
      s.local = stream;
      return req('POST', '/' + encodeURIComponent(pid) + '/answer', { accept: '1' });
    }).then(function () {
      metrics.accepted = Date.now();
      showLocal(s);
      return offerTo(s, 'customer');
    }).catch(function (err) {
      if (S !== s) return;
      teardown();
      notice(err && err.status ? err.message : msg('denied'));
      if (!err || !err.status) req('POST', '/' + encodeURIComponent(pid) + '/answer', { accept: '0', reason: 'denied' }).catch(function () {});
    });
  }

  // join: another agent of the conversation joins the running call and
  // offers a connection to everyone in it.
  function join() {
    var p = panel();
    var pid = p && p.getAttribute('data-session'), media = p && p.getAttribute('data-media');
    if (!pid) return;
    var s = session(pid, media);
    capture(media).then(function (stream) {
      s.local = stream;
      return req('POST', '/' + encodeURIComponent(pid) + '/join', {});
    }).then(function (j) {
      if (S !== s) return;
      showLocal(s);
      return Promise.all((j.peers || []).map(function (peer) { return offerTo(s, peer); }));
    }).catch(function (err) {
      if (S !== s) return;
      teardown();
      notice(err && err.status ? err.message : msg('denied'));
    });
  }

  function leave(pid) {
    var c = (S && S.conv) || conv();
    teardown();
    req('POST', '/' + encodeURIComponent(pid) + '/leave', {}, false, true, c).catch(function () {});
  }

  document.addEventListener('click', function (e) {
    var b = e.target.closest && e.target.closest('[data-rtc-request],[data-rtc-end],[data-rtc-accept],[data-rtc-decline],[data-rtc-mute],[data-rtc-camera],[data-rtc-join]');
    if (b) { e.preventDefault(); click(b); }
  });
  // Leaving the conversation (boosted navigation) ends what runs here.
  document.addEventListener('htmx:afterSettle', function () {
    if (S && conv() !== S.conv) end('left');
  });
  // Closing the page ends what runs (the other side sees "left").
  window.addEventListener('pagehide', function () {
    if (!S) return;
    var p = panel();
    if (desk && p && p.hasAttribute('data-in-call') && agentsBesidesMe(p).length) leave(S.pid); else end('left');
  });

  var api = window.ParleyRTC = { drain: drain, metrics: metrics, lastPointer: null, session: function () { return S; },
    connected: function () { return S ? Object.keys(S.peers).filter(function (k) { var pc = S.peers[k].pc; return pc && pc.connectionState === 'connected'; }) : []; } };
  drain();
  boot.clicks.splice(0).forEach(click);
})();

// The candidate's interview page: consent, then microphone check, then the WebRTC call.
// No microphone or camera is opened before consent is given. Plain ES2017: Chrome, Firefox, Safari.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("milo-config").textContent);
  function $(id) { return document.getElementById(id); }

  var stream = null;      // the microphone (and camera) the candidate checked
  var pc = null;          // the current peer connection (replaced when reconnecting)
  var channel = null;     // its control data channel
  var audioCtx = null;
  var meterTimer = null;
  var ended = false;
  var lostSince = null;   // time the connection was lost, for the resume window
  var retryTimer = null;
  var lastHeard = 0;      // when the server last sent anything on the control channel (it pings every second)
  var SILENT_MS = 4000;   // that long without a word while connected: the server is gone (e.g. its node died)
  setInterval(function () {
    if (!ended && pc && pc.connectionState === "connected" && lastHeard && Date.now() - lastHeard > SILENT_MS) {
      lastHeard = 0;
      onLost();
    }
  }, 1000);

  function show(step) {
    ["consent", "check", "live"].forEach(function (name) { $("step-" + name).hidden = name !== step; });
    var heading = $("step-" + step).querySelector("h2");
    if (heading) { heading.focus(); }
  }
  function setError(message) { $("error").textContent = message || ""; }
  function indicate(kind, text) {
    $("indicator").className = "indicator " + kind;
    $("indicator-text").textContent = text;
  }

  // Step 1: consent.
  $("consent").addEventListener("change", function () { $("consent-continue").disabled = !$("consent").checked; });
  $("consent-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if ($("consent").checked) { show("check"); }
  });

  // Step 2: devices and level meter.
  function stopStream() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
    stream = null;
  }
  async function openDevices() {
    setError("");
    if (!$("consent").checked) { show("consent"); return; }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      setError("This browser cannot use a microphone on this page. Please use a current Chrome, Firefox or Safari.");
      return;
    }
    stopStream();
    var wantVideo = $("camera").checked;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
        video: wantVideo ? { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 15, max: 15 } } : false
      });
    } catch (err) {
      setError("We could not use your " + (wantVideo ? "microphone or camera" : "microphone") +
        " (" + err.name + "). Allow access in your browser's address bar and try again.");
      return;
    }
    startMeter(stream);
    var preview = $("preview");
    if (wantVideo) {
      preview.srcObject = stream;
      preview.hidden = false;
      preview.play().catch(function () {});
    } else {
      preview.hidden = true;
      preview.srcObject = null;
    }
    $("check-status").textContent = "Microphone ready" + (wantVideo ? " and camera on" : "") +
      ". When you are ready, start the interview.";
    $("start").disabled = false;
  }
  function startMeter(source) {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    if (!audioCtx) { audioCtx = new Context(); }
    audioCtx.resume().catch(function () {});
    var analyser = audioCtx.createAnalyser();
    analyser.fftSize = 1024;
    audioCtx.createMediaStreamSource(source).connect(analyser);
    var data = new Float32Array(analyser.fftSize);
    clearInterval(meterTimer);
    meterTimer = setInterval(function () {
      analyser.getFloatTimeDomainData(data);
      var sum = 0;
      for (var i = 0; i < data.length; i++) { sum += data[i] * data[i]; }
      var db = 20 * Math.log10(Math.sqrt(sum / data.length) + 1e-9);
      var level = Math.min(1, Math.max(0, (db + 60) / 60));  // -60 dBFS .. 0 dBFS
      $("level").value = level;
      $("level").textContent = Math.round(level * 100) + "%";
    }, 100);
  }
  $("mic-test").addEventListener("click", openDevices);
  $("camera").addEventListener("change", function () { if (stream) { openDevices(); } });

  // Step 3: the call.
  $("start").addEventListener("click", async function () {
    $("start").disabled = true;
    $("remote").play().catch(function () {});  // inside the click: Safari allows playback from now on
    show("live");
    try {
      await connect();
    } catch (err) {
      setError("Could not start the interview: " + err.message);
      indicate("lost", "Not connected.");
      $("start").disabled = false;
      show("check");
    }
  });

  function waitForIce(peer) {
    return new Promise(function (resolve) {
      if (peer.iceGatheringState === "complete") { resolve(); return; }
      var done = function () { if (peer.iceGatheringState === "complete") { resolve(); } };
      peer.addEventListener("icegatheringstatechange", done);
      setTimeout(resolve, 3000);  // a slow STUN server: go with the candidates found so far
    });
  }

  async function connect() {
    indicate("connecting", lostSince ? "Reconnecting…" : "Connecting…");
    if (pc) { pc.close(); }
    var peer = new RTCPeerConnection({ iceServers: config.iceServers });
    pc = peer;
    stream.getTracks().forEach(function (track) { peer.addTrack(track, stream); });
    channel = peer.createDataChannel("control");
    lastHeard = 0;  // until the new channel's first message
    channel.onmessage = function (event) {
      if (peer === pc) { lastHeard = Date.now(); }
      try { onMessage(JSON.parse(event.data)); } catch (err) { /* not ours: ignore */ }
    };
    peer.ontrack = function (event) {
      var remote = $("remote");
      remote.srcObject = event.streams && event.streams[0] ? event.streams[0] : new MediaStream([event.track]);
      remote.play().catch(function () {});
    };
    peer.onconnectionstatechange = function () {
      if (peer !== pc || ended) { return; }
      var state = peer.connectionState;
      if (state === "connected") {
        lostSince = null;
        setError("");
      } else if (state === "failed") {
        onLost();
      } else if (state === "disconnected") {
        setTimeout(function () { if (peer === pc && peer.connectionState === "disconnected") { onLost(); } }, 3000);
      }
    };
    await peer.setLocalDescription(await peer.createOffer());
    await waitForIce(peer);
    var response = await fetch(config.offerUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      // the notice version the page showed: an offer for a notice that has changed since is refused (409)
      body: JSON.stringify({ sdp: peer.localDescription.sdp, type: "offer", consent: true,
                             notice_version: config.noticeVersion })
    });
    var body = await response.json().catch(function () { return {}; });
    if (!response.ok) { throw new Error(body.error || ("the server answered " + response.status)); }
    await peer.setRemoteDescription({ type: body.type, sdp: body.sdp });
  }

  function onLost() {
    if (ended) { return; }
    if (lostSince === null) { lostSince = Date.now(); }
    indicate("lost", "Connection lost. Reconnecting…");
    clearTimeout(retryTimer);
    if (Date.now() - lostSince > config.resumeWindow * 1000) {
      setError("The connection could not be restored. Reload this page to try again.");
      return;
    }
    var first = Date.now() - lostSince < 1000;  // at once the first time, then every 2 s
    retryTimer = setTimeout(function () {
      connect().catch(function (err) {
        if (/completed|ended|not valid/i.test(err.message)) { finish(); return; }
        onLost();
      });
    }, first ? 300 : 2000);
  }

  function onMessage(message) {
    if (message.type === "state") {
      if (message.speaking) { indicate("speaking", "The interviewer is speaking…"); }
      else { indicate("listening", "Your turn: the interviewer is listening."); }
    } else if (message.type === "caption" && message.text) {
      var line = document.createElement("p");
      line.textContent = message.text;
      var captions = $("captions");
      captions.appendChild(line);
      while (captions.children.length > 3) { captions.removeChild(captions.firstChild); }
    } else if (message.type === "hangup") {
      finish();
    }
  }

  $("captions-toggle").addEventListener("change", function () { $("captions").hidden = !$("captions-toggle").checked; });

  $("end").addEventListener("click", async function () {
    if (!window.confirm("End the interview now? You will not be able to continue it later.")) { return; }
    ended = true;
    try { if (channel && channel.readyState === "open") { channel.send(JSON.stringify({ type: "end" })); } } catch (err) { /* closing anyway */ }
    try { await fetch(config.endUrl, { method: "POST" }); } catch (err) { /* the server also ends it when the peer goes */ }
    finish();
  });

  function finish() {
    ended = true;
    clearTimeout(retryTimer);
    clearInterval(meterTimer);
    stopStream();
    if (pc) { pc.close(); }
    window.location.href = config.thanksUrl;
  }
})();

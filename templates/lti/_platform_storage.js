/* LTI client-side postMessages and platform storage (1EdTech lti-cs-pm / lti-pm-s):
   lti.capabilities goes to the parent window (it reveals nothing); lti.put_data and
   lti.get_data go to the frame the platform names, with the origin of its OIDC
   authorization endpoint as target origin, and only answers from that origin count. */
(function () {
  "use strict";
  function randomId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function frameFor(name) {
    if (name === "_parent") { return window.parent; }
    try { return window.parent.frames[name] || null; } catch (e) { return null; }
  }
  // The platform's frame may still be loading (Canvas's post_message_forwarding frame loads
  // beside the tool's): a message posted before its listener exists is lost, so ask again
  // until an answer comes. The questions are idempotent; the first answer wins.
  var RESEND_MS = 250;
  function ask(win, message, targetOrigin, timeoutMs) {
    return new Promise(function (resolve, reject) {
      if (!win || win === window) { reject(new Error("no platform window")); return; }
      var id = randomId();
      var timer = window.setTimeout(function () { done(); reject(new Error("timeout")); }, timeoutMs);
      var resend = window.setInterval(function () { win.postMessage(message, targetOrigin); }, RESEND_MS);
      function done() {
        window.clearTimeout(timer);
        window.clearInterval(resend);
        window.removeEventListener("message", onMessage);
      }
      function onMessage(event) {
        var data = event.data;
        if (!data || typeof data !== "object" || data.message_id !== id) { return; }
        if (event.source !== win || data.subject !== message.subject + ".response") { return; }
        if (targetOrigin !== "*" && event.origin !== targetOrigin) { return; }
        done();
        if (data.error) { reject(new Error(String(data.error.code || "error"))); } else { resolve(data); }
      }
      window.addEventListener("message", onMessage);
      message.message_id = id;
      win.postMessage(message, targetOrigin);
    });
  }
  window.ltiPlatformStorage = function (target, origin) {
    return ask(window.parent, {subject: "lti.capabilities"}, "*", 2000).then(function (caps) {
      var list = Array.isArray(caps.supported_messages) ? caps.supported_messages : [];
      function find(subject) {
        for (var i = 0; i < list.length; i++) { if (list[i] && list[i].subject === subject) { return list[i]; } }
        return null;
      }
      var put = find("lti.put_data"), get = find("lti.get_data");
      if (!put || !get) { throw new Error("platform storage is not offered"); }
      return {
        put: function (key, value) {
          return ask(frameFor(put.frame || target), {subject: "lti.put_data", key: key, value: value}, origin, 3000);
        },
        get: function (key) {
          return ask(frameFor(get.frame || target), {subject: "lti.get_data", key: key}, origin, 3000)
            .then(function (answer) { return answer.value; });
        }
      };
    });
  };
})();

/* The sandbox platform's side of LTI platform storage: answers lti.capabilities and/or
   lti.put_data / lti.get_data, validating each message, keeping values in localStorage
   partitioned by the sender's origin, and answering only the sender at its own origin. */
(function () {
  "use strict";
  var config = document.getElementById("storage-config").dataset;
  var answersCapabilities = config.capabilities === "1";
  var answersStorage = config.storage === "1";
  var frame = config.frame || "";
  var log = window.sandboxStorageLog = window.sandboxStorageLog || [];
  var PREFIX = "sandbox-lti-storage:";
  function reply(event, body) {
    body.message_id = event.data.message_id;
    event.source.postMessage(body, event.origin);
  }
  function refuse(event, subject, message) {
    reply(event, {subject: subject + ".response", error: {code: "bad_request", message: message}});
  }
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data !== "object" || typeof data.subject !== "string" || !event.source) { return; }
    var subject = data.subject;
    var isCapabilities = subject === "lti.capabilities";
    var isStorage = subject === "lti.put_data" || subject === "lti.get_data";
    if (!(isCapabilities && answersCapabilities) && !(isStorage && answersStorage)) { return; }
    log.push({subject: subject, origin: event.origin});
    if (typeof data.message_id !== "string" || !data.message_id) { refuse(event, subject, "message_id is required"); return; }
    if (isCapabilities) {
      var storageEntry = function (name) { return frame ? {subject: name, frame: frame} : {subject: name}; };
      reply(event, {subject: "lti.capabilities.response", supported_messages: [
        {subject: "lti.capabilities"}, storageEntry("lti.put_data"), storageEntry("lti.get_data")
      ]});
      return;
    }
    if (typeof data.key !== "string" || !data.key || data.key.length > 2048) { refuse(event, subject, "key must be a non-empty string"); return; }
    var slot = PREFIX + event.origin + ":" + data.key;
    if (subject === "lti.put_data") {
      if (data.value === null) { window.localStorage.removeItem(slot); }
      else if (typeof data.value !== "string" || data.value.length > 4096) { refuse(event, subject, "value must be a string of at most 4096 characters, or null"); return; }
      else { window.localStorage.setItem(slot, data.value); }
      reply(event, {subject: "lti.put_data.response", key: data.key, value: data.value});
      return;
    }
    reply(event, {subject: "lti.get_data.response", key: data.key, value: window.localStorage.getItem(slot)});
  });
})();

// First-party measurements, loaded only after consent (see privacy/_banner.html).
// Sends page timings (performance) and the page path, the previous page on this
// site and the time spent (advertising): no cookie, no identifier.
(function () {
  "use strict";
  var script = document.currentScript;
  var endpoint = script.dataset.endpoint;
  var started = Date.now();

  function send(data) {
    var body = new FormData();
    Object.keys(data).forEach(function (key) { body.append(key, data[key]); });
    navigator.sendBeacon(endpoint, body);
  }

  if (script.dataset.performance === "1") {
    window.addEventListener("load", function () {
      setTimeout(function () {
        var nav = performance.getEntriesByType("navigation")[0];
        if (!nav) { return; }
        send({
          kind: "timing",
          path: location.pathname,
          ttfb: Math.round(nav.responseStart),
          dom_ready: Math.round(nav.domContentLoadedEventEnd),
          load: Math.round(nav.loadEventEnd)
        });
      }, 0);
    });
  }

  if (script.dataset.advertising === "1") {
    var fromPath = "";
    try {
      var referrer = new URL(document.referrer);
      if (referrer.origin === location.origin) { fromPath = referrer.pathname; }
    } catch (error) { fromPath = ""; }
    var sent = false;
    var visit = function () {
      if (sent) { return; }
      sent = true;
      send({
        kind: "visit",
        path: location.pathname,
        from_path: fromPath,
        seconds: Math.round((Date.now() - started) / 1000)
      });
    };
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { visit(); }
    });
    window.addEventListener("pagehide", visit);
  }
}());

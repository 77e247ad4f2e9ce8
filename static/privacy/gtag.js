// The Google tag's configuration, loaded only with advertising consent and a tag id.
(function () {
  "use strict";
  var tagId = document.currentScript.dataset.tagId;
  window.dataLayer = window.dataLayer || [];
  function gtag() { window.dataLayer.push(arguments); }
  gtag("js", new Date());
  gtag("config", tagId, { anonymize_ip: true });
}());

// The Google tag's configuration, loaded only with advertising consent and a tag id.
(function () {
  "use strict";
  var tagId = document.currentScript.dataset.tagId;
  window.dataLayer = window.dataLayer || [];
  function gtag() { window.dataLayer.push(arguments); }
  gtag("js", new Date());
  // Host-only cookies ("none", not the default "auto", which writes them for the parent
  // domain): the server can then expire _ga and _ga_* when consent is refused or withdrawn.
  gtag("config", tagId, { anonymize_ip: true, cookie_domain: "none" });
}());

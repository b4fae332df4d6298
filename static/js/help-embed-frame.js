// Inside the embedded help page: tell the embedding tool how tall the panel
// is, so its frame fits without a scroll bar. Only the origin the server
// allowed (data-parent-origin) receives the message.
(function () {
  "use strict";
  var origin = document.body.getAttribute("data-parent-origin");
  if (!origin || window.parent === window) {
    return;
  }
  function report() {
    var height = document.documentElement.scrollHeight;
    window.parent.postMessage({ type: "commonplace:help-height", height: height }, origin);
  }
  window.addEventListener("load", report);
  document.body.addEventListener("htmx:afterSettle", report);
  if (window.ResizeObserver) {
    new ResizeObserver(report).observe(document.body);
  }
})();

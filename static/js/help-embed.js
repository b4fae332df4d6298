// Embed the Commonplace help panel in another tool's screen.
//
//   <div data-commonplace-help="reconciliation.order" data-record="SO-10348"></div>
//   <script src="https://commonplace.example.com/static/js/help-embed.js" defer></script>
//
// Each element with data-commonplace-help gets an <iframe> with the panel for
// that context key. The frame's height follows the panel's. The Commonplace
// server must list this page's origin in HELP_EMBED_ORIGINS.
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL(script ? script.src : window.location.href);
  var server = base.origin;
  var frames = [];

  function embed(element) {
    var key = element.getAttribute("data-commonplace-help");
    if (!key || element.getAttribute("data-commonplace-embedded")) {
      return;
    }
    var url = new URL("/assist/embed/", server);
    url.searchParams.set("context", key);
    url.searchParams.set("origin", window.location.origin);
    var record = element.getAttribute("data-record");
    if (record) {
      url.searchParams.set("record", record);
      // order (the default), payment, invoice or vendor_bill.
      var kind = element.getAttribute("data-record-kind");
      if (kind) {
        url.searchParams.set("record_kind", kind);
      }
    }
    var frame = document.createElement("iframe");
    frame.src = url.toString();
    frame.title = "Commonplace help for this screen";
    frame.style.width = "100%";
    frame.style.border = "0";
    frame.style.minHeight = "240px";
    frame.setAttribute("loading", "lazy");
    element.appendChild(frame);
    element.setAttribute("data-commonplace-embedded", "true");
    frames.push(frame);
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== server || !event.data || event.data.type !== "commonplace:help-height") {
      return;
    }
    frames.forEach(function (frame) {
      if (frame.contentWindow === event.source) {
        frame.style.height = Math.ceil(Number(event.data.height) || 240) + "px";
      }
    });
  });

  function embedAll() {
    document.querySelectorAll("[data-commonplace-help]").forEach(embed);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", embedAll);
  } else {
    embedAll();
  }
})();

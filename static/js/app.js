// Small behaviours on top of htmx, kept out of inline attributes so pages
// carry no inline script.
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt;
  if (event.detail.successful && form.matches("form[data-reset-on-success]")) {
    form.reset();
    // Suggestions for the question just sent no longer apply.
    form.querySelectorAll("[data-clear-on-reset]").forEach((element) => {
      element.replaceChildren();
    });
  }
});

document.addEventListener("htmx:afterSettle", (event) => {
  const panel = event.detail.target;
  if (panel && panel.id === "help-panel") {
    panel.scrollIntoView({ block: "nearest" });
  }
});

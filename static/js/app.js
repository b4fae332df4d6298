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

// A click outside the top bar's "More" menu, or Escape, closes it.
document.addEventListener("click", (event) => {
  document.querySelectorAll("details.more-menu[open]").forEach((menu) => {
    if (!menu.contains(event.target)) {
      menu.open = false;
    }
  });
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") {
    return;
  }
  document.querySelectorAll("details.more-menu[open]").forEach((menu) => {
    menu.open = false;
    menu.querySelector("summary").focus();
  });
});

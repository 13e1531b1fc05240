// deskguard console: progressive enhancement only; every page works by keyboard without it.
// No inline script anywhere (the Content-Security-Policy forbids it): behaviour hangs on data- attributes.
(function () {
  "use strict";
  // After an htmx swap, move the focus to the first element marked data-focus (a result, an error),
  // so that keyboard and screen-reader users land where the page changed.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.elt.querySelector("[data-focus]");
    if (target) { target.setAttribute("tabindex", "-1"); target.focus(); }
  });
  // Buttons with data-confirm ask before submitting (a destructive action: deny, revoke, lock).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
  });
})();

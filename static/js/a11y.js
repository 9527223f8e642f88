// 大字 mode (issue #13, 适老化): the reader's choice persists in localStorage and is applied in
// <head> before the page paints, so no page flashes small first. A file, not inline: the CSP.
(function () {
  "use strict";
  var KEY = "portal-large-text";
  var root = document.documentElement;
  function stored() {
    try { return window.localStorage.getItem(KEY) === "1"; } catch (e) { return false; }
  }
  function store(on) {
    try { window.localStorage.setItem(KEY, on ? "1" : "0"); } catch (e) { /* private mode: this page only */ }
  }
  if (stored()) root.classList.add("large");
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("a11y-toggle");
    if (!button) return;
    button.hidden = false;  // without JavaScript there is no toggle (the browser's zoom still works)
    button.setAttribute("aria-pressed", root.classList.contains("large") ? "true" : "false");
    button.addEventListener("click", function () {
      var on = !root.classList.contains("large");
      root.classList.toggle("large", on);
      button.setAttribute("aria-pressed", on ? "true" : "false");
      store(on);
    });
  });
})();

// Search as you type that works with a Chinese keyboard (issue #13).
// While an input method composes (pinyin letters, wubi codes) the text is not a query: only when
// the composition ends does the box announce "live-search", which htmx listens for
// (hx-trigger="live-search changed delay:250ms"). Delegated on document so it survives htmx
// history restores. A file, not an inline script: the pages run under a CSP without inline code.
(function () {
  "use strict";
  var SELECTOR = "input[data-live-search]";
  var composing = new WeakSet();

  function announce(input) {
    input.dispatchEvent(new CustomEvent("live-search", { bubbles: false }));
  }

  document.addEventListener("compositionstart", function (e) {
    if (e.target.matches && e.target.matches(SELECTOR)) composing.add(e.target);
  }, true);
  document.addEventListener("compositionend", function (e) {
    if (e.target.matches && e.target.matches(SELECTOR)) {
      composing.delete(e.target);
      announce(e.target);  // Chrome sends the last input event before compositionend
    }
  }, true);
  document.addEventListener("input", function (e) {
    var input = e.target;
    if (!input.matches || !input.matches(SELECTOR)) return;
    if (e.isComposing || composing.has(input)) return;
    announce(input);
  }, true);
})();

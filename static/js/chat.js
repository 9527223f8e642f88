/* The chat panel's behaviour (templates/chat/_panel.html), kept out of the HTML so the
   Content-Security-Policy can forbid inline script and eval (portal/web/security_headers.py).
   The panel is swapped in by htmx, so the handlers listen on the document. */
(function () {
  "use strict";
  function inPanel(elt) {
    return elt && elt.closest && elt.closest("#chat-panel");
  }
  // A rate-limited answer (429) carries its own message: show it like any other answer.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (inPanel(event.target) && event.detail.xhr && event.detail.xhr.status === 429) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  // After a question: empty the input and keep the newest answer in view.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form.matches || !form.matches("#chat-panel form.chat-form")) {
      return;
    }
    if (event.detail.successful) {
      form.reset();
    }
    var log = document.getElementById("chat-log");
    if (log) {
      log.scrollTop = log.scrollHeight;
    }
  });
})();

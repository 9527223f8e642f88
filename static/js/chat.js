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
  // After a question: empty the input, show the START of the new answer (not its end: a long
  // answer would otherwise be read from the bottom) and keep the focus in the input, on the
  // full /chat page (the window scrolls) and in the floating panel (the log scrolls) alike.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form.matches || !form.matches("#chat-panel form.chat-form")) {
      return;
    }
    if (event.detail.successful) {
      form.reset();
    }
    var log = document.getElementById("chat-log");
    var answers = log ? log.querySelectorAll(".chat-bot") : [];
    var answer = answers.length ? answers[answers.length - 1] : null;
    if (answer) {
      var question = answer.previousElementSibling;
      var start = question && question.classList.contains("chat-user") ? question : answer;
      if (log.scrollHeight > log.clientHeight + 1) {
        log.scrollTop = start.offsetTop - log.offsetTop - 8;
      }
      if (start.getBoundingClientRect().top < 0 || start.getBoundingClientRect().top > window.innerHeight / 2) {
        start.scrollIntoView({ block: "start" });
      }
    }
    var input = form.querySelector("#chat-q");
    if (input) {
      input.focus({ preventScroll: true });
    }
  });
})();

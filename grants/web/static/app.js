/* Enhancements only: every page works without this file. The application form's own
   script (autosave, rows added in the page) is form.js, loaded by that page alone.
   - forms with data-confirm ask before they are sent (withdraw, reject…);
   - fields with a character limit count down as the person types. */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
}());

/* Character counts: a field with data-characters (its limit) says, as the person types,
   how many characters are left or how many are too many. The server refuses a text
   over its limit whatever this shows. */
function characterCounts() {
  "use strict";
  function show(field) {
    var count = document.getElementById(field.id + "-count");
    var limit = parseInt(field.getAttribute("data-characters"), 10);
    if (!count || !limit) { return; }
    var left = limit - field.value.length;
    var template = count.getAttribute(left < 0 ? "data-over" : "data-left") || "";
    // Digits as the server writes them in every language (Latin, grouped the reader's way).
    count.textContent = template.replace("{count}",
      Math.abs(left).toLocaleString((document.documentElement.lang || "en") + "-u-nu-latn"));
    count.classList.toggle("error", left < 0);
  }
  document.addEventListener("input", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-characters")) {
      show(event.target);
    }
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-characters]"), function (field) {
    if (field.value) { show(field); }
  });
}

characterCounts();

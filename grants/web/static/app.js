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

/* Bulk forms: a box in a list's header ticks every row of the page at once; without
   this file the rows are ticked one by one. */
(function () {
  "use strict";
  var boxes = document.querySelectorAll("input[data-select-all]");
  Array.prototype.forEach.call(boxes, function (box) { box.hidden = false; });
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.hasAttribute || !box.hasAttribute("data-select-all")) { return; }
    var rows = document.querySelectorAll('input[name="ids"][form="bulk-form"]');
    Array.prototype.forEach.call(rows, function (row) { row.checked = box.checked; });
  });
}());

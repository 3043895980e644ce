/* Enhancements only: every page works without this file.
   - forms with data-confirm ask before they are sent (withdraw, reject…);
   - the application form saves itself after a few seconds without typing;
   - budget totals are shown as you type (the server computes the real ones). */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });

  var form = document.getElementById("application-form");
  if (!form) { return; }

  var status = document.createElement("p");
  status.className = "hint autosave-status";
  status.setAttribute("role", "status");
  form.insertBefore(status, form.firstChild);

  function number(value) {
    var parsed = parseFloat(String(value || "").replace(/\s/g, "").replace(",", "."));
    return isNaN(parsed) ? null : parsed;
  }

  function totals() {
    var rows = form.querySelectorAll("#budget tbody tr");
    Array.prototype.forEach.call(rows, function (row) {
      var inputs = row.querySelectorAll("input");
      var cell = row.querySelector("td:last-child");
      if (inputs.length < 3 || !cell) { return; }
      var quantity = number(inputs[1].value), cost = number(inputs[2].value);
      cell.textContent = quantity !== null && cost !== null
        ? (quantity * cost).toLocaleString(document.documentElement.lang, {maximumFractionDigits: 2})
        : "";
    });
  }

  var timer = null, saving = false;
  function save() {
    if (saving) { return; }
    saving = true;
    var data = new FormData(form);
    fetch(form.getAttribute("data-autosave"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"X-Requested-With": "autosave"}
    }).then(function (response) {
      return response.json().then(function (body) {
        if (body.version) { form.querySelector("input[name=version]").value = body.version; }
        status.textContent = body.message;
      });
    }).catch(function () {
      status.textContent = form.getAttribute("data-offline-message") || "";
    }).then(function () { saving = false; });
  }

  form.addEventListener("input", function () {
    totals();
    window.clearTimeout(timer);
    timer = window.setTimeout(save, 4000);
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

/* SDG targets: a filter box above the goals; typing "8.6" or "education" shows only the
   goals and targets that match, opened. Without it every goal is still there to open. */
function sdgTargetFilter() {
  "use strict";
  var fieldset = document.querySelector(".sdg-goals[data-filter-label]");
  if (!fieldset) { return; }
  var label = document.createElement("label");
  var box = document.createElement("input");
  box.type = "search";
  box.id = fieldset.id + "-filter";
  box.setAttribute("autocomplete", "off");
  label.htmlFor = box.id;
  label.textContent = fieldset.getAttribute("data-filter-label");
  var hint = fieldset.querySelector(".hint");
  fieldset.insertBefore(box, hint ? hint.nextSibling : fieldset.firstChild);
  fieldset.insertBefore(label, box);
  var goals = fieldset.querySelectorAll("details");
  var opened = Array.prototype.map.call(goals, function (goal) { return goal.open; });
  // Enter in the box must not send the form, and typing in it changes nothing to save.
  box.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); }
  });
  box.addEventListener("input", function (event) {
    event.stopPropagation();
    var wanted = box.value.trim().toLowerCase();
    Array.prototype.forEach.call(goals, function (goal, index) {
      var title = goal.querySelector("summary").textContent.toLowerCase();
      var items = goal.querySelectorAll("li"), shown = 0;
      Array.prototype.forEach.call(items, function (item) {
        var code = item.textContent.trim();
        var match = !wanted || title.indexOf(wanted) !== -1 || code.indexOf(wanted) === 0;
        item.hidden = !match;
        if (match) { shown += 1; }
      });
      goal.hidden = shown === 0;
      goal.open = wanted ? shown > 0 : opened[index] || goal.querySelector(":checked") !== null;
    });
  });
}

characterCounts();
sdgTargetFilter();

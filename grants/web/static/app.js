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

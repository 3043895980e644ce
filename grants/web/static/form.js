/* The application form, enhanced (the page works without this file):
   - it saves itself after a few seconds without typing, sending only what changed, and
     keeps unsent changes on the device until the server has them;
   - rows (budget lines, co-financing, partners, team) are added in the page;
   - budget totals are shown as you type (the server computes the real ones);
   - the SDG goals get a filter box. */
(function () {
  "use strict";

  var form = document.getElementById("application-form");
  if (!form) { return; }
  // The sentences, in the page's language (form-words.js, kept by the browser).
  var words = window.formWords || {};

  // A draft just started comes as the answer to the call page's "Start an application":
  // the address becomes the draft's own, so that a reload or a bookmark opens the draft.
  var pageUrl = form.getAttribute("data-page-url");
  if (pageUrl && window.location.pathname + window.location.search !== pageUrl) {
    window.history.replaceState(window.history.state, "", pageUrl);
  }

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

  /* Adding a row: the table's last row (always a blank one) is copied with the next
     index, as the server would render it after "Add a line". */
  function addRow(table) {
    var body = table.tBodies[0], index = body.rows.length;
    var row = body.rows[index - 1].cloneNode(true);
    Array.prototype.forEach.call(row.querySelectorAll("[name]"), function (field) {
      field.name = field.id = field.name.replace(/-\d+-/, "-" + index + "-");
      var label = field.getAttribute("aria-label");
      if (label) { field.setAttribute("aria-label", label.replace(/\d+(?!.*\d)/, index + 1)); }
      field.removeAttribute("aria-invalid");
      field.removeAttribute("aria-describedby");
      if (field.tagName === "SELECT") { field.selectedIndex = 0; } else { field.value = ""; }
    });
    Array.prototype.forEach.call(row.querySelectorAll(".error"), function (error) {
      error.parentNode.removeChild(error);
    });
    var total = row.querySelector("td.number");
    if (total) { total.textContent = ""; }
    body.appendChild(row);
    return row;
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[name^='add_']") : null;
    var table = button ? button.closest("fieldset").querySelector("table.rows") : null;
    if (!table) { return; }
    event.preventDefault();
    if (event.detail === 0 && document.activeElement !== button) {
      save();  // Enter in a field "clicks" the form's first button: it means save, not add
      return;
    }
    addRow(table).querySelector("input, select").focus();
  });

  /* Saving. Only the fields changed since the last save are sent, each named in
     "changed" (a table of rows goes whole). Until the server has them they are also kept
     on the device, so that a lost connection, a closed tab or an ended session loses
     nothing: they are put back and sent when the form opens again, and sent when the
     connection returns. A version changed by someone else is a conflict shown to the
     person; only their Save button then saves over it. */
  var deviceKey = "unsent-changes " + form.getAttribute("data-autosave");
  var edits = {};  // field or table name → edits the server has not confirmed
  // Unsent changes kept on the device from another part of the form (its fields are not
  // on this page): sent as they were kept, and kept until the server has them.
  var elsewhere = {};  // field or table name → [[name, value], …]
  var timer = null, saving = false, again = false, renewed = false, asked = false;
  var retryDelay = 0, currentVersion = null, continueTo = null;
  var here = window.location.pathname + window.location.search;

  function groupOf(name) { return name.split("-")[0]; }

  function showStatus(state, message, link) {
    status.setAttribute("data-state", state);
    status.textContent = message || "";
    if (link) {
      var anchor = document.createElement("a");
      anchor.href = link;
      anchor.textContent = words.signIn;
      status.appendChild(document.createTextNode(" "));
      status.appendChild(anchor);
    }
  }

  function changedValues() {
    var values = [];
    new FormData(form).forEach(function (value, name) {
      if (edits[groupOf(name)] && !elsewhere[groupOf(name)]) { values.push([name, value]); }
    });
    Object.keys(elsewhere).forEach(function (group) {
      if (edits[group]) { values = values.concat(elsewhere[group]); }
    });
    return values;
  }

  /* Returns whether the device holds the unsent changes. "handedOver": the person went on
     to another part of the form, whose page sends them as soon as it opens. */
  function keepOnDevice(handedOver) {
    try {
      if (Object.keys(edits).length) {
        window.localStorage.setItem(deviceKey, JSON.stringify({
          version: form.elements.version.value, changed: Object.keys(edits), values: changedValues(),
          handedOver: !!handedOver
        }));
      } else {
        window.localStorage.removeItem(deviceKey);
      }
      return true;
    } catch (unavailable) { /* no storage (private mode, full): the page still holds the text */ }
    return false;
  }

  function setVersion(version) {
    var inputs = document.querySelectorAll(
      "#application-form input[name=version], form.submit-form input[name=version]");
    Array.prototype.forEach.call(inputs, function (input) { input.value = version; });
  }

  function showSavedParts(body) {
    // What the save changed on the page (the budget's totals), rendered by the server.
    Object.keys(body.parts || {}).forEach(function (id) {
      var part = document.getElementById(id);
      if (part) { part.innerHTML = body.parts[id]; }
    });
  }

  function saved(body, sent) {
    asked = false;
    Object.keys(sent).forEach(function (name) {
      if (edits[name] === sent[name]) { delete edits[name]; delete elsewhere[name]; }
    });
    setVersion(body.version);
    retryDelay = 0;
    renewed = false;
    currentVersion = null;
    keepOnDevice();
    showStatus("saved", body.message);
    showSavedParts(body);
    if (continueTo && !Object.keys(edits).length) { window.location.href = continueTo; }
  }

  function refused(code, body) {
    continueTo = null;
    keepOnDevice();
    if (body.where && body.where !== here && form.elements.part.value !== "all") {
      // What needs attention is in another part of the form: a link opens it, where the
      // kept changes are put back beside their reasons.
      asked = false;
      showStatus("refused", words.elsewhere);
      var anchor = document.createElement("a");
      anchor.href = body.where;
      anchor.textContent = words.openPart;
      status.appendChild(document.createTextNode(" "));
      status.appendChild(anchor);
      return;
    }
    if (asked && code !== 409) {
      // The person pressed Save: show why next to each field, as the page does without script.
      asked = false;
      form.submit();
      return;
    }
    if (code === 409 && body.current_version) { currentVersion = body.current_version; }
    showStatus(code === 409 ? "conflict" : "refused", body.message);
  }

  function unsent() {
    asked = false;
    continueTo = null;
    keepOnDevice();
    showStatus("unsent", words.offline);
    retryDelay = Math.min(retryDelay ? retryDelay * 2 : 5000, 60000);
    window.clearTimeout(timer);
    timer = window.setTimeout(save, retryDelay);
  }

  function signedOut() {
    continueTo = null;
    keepOnDevice();
    showStatus("expired", words.expired,
      form.getAttribute("data-sign-in-url"));
  }

  function save() {
    window.clearTimeout(timer);
    var names = Object.keys(edits);
    if (!names.length) { return; }
    if (saving) { again = true; return; }
    saving = true;
    var sent = {}, data = new URLSearchParams();
    data.append("csrf_token", form.elements.csrf_token.value);
    data.append("version", form.elements.version.value);
    names.forEach(function (name) { sent[name] = edits[name]; data.append("changed", name); });
    changedValues().forEach(function (pair) { data.append(pair[0], pair[1]); });
    fetch(form.getAttribute("data-autosave"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"X-Requested-With": "autosave", "Accept": "application/json"}
    }).then(function (response) {
      if (response.status === 401) { return signedOut(); }
      return response.json().then(function (body) {
        if (response.ok) {
          saved(body, sent);
        } else if (body.csrf_token && !renewed) {
          renewed = again = true;  // the page's token aged (an hour): send with a fresh one
          Array.prototype.forEach.call(document.querySelectorAll("input[name=csrf_token]"),
            function (input) { input.value = body.csrf_token; });
        } else {
          refused(response.status, body);
        }
      });
    }).catch(unsent).then(function () {
      saving = false;
      if (again) { again = false; save(); }
    });
  }

  function noteChange(event) {
    var name = event.target.name;
    if (!name || name === "csrf_token" || name === "version") { return; }
    edits[groupOf(name)] = (edits[groupOf(name)] || 0) + 1;
    totals();
    keepOnDevice();
    window.clearTimeout(timer);
    timer = window.setTimeout(save, 4000);
  }

  function clearGroup(group) {
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || groupOf(field.name) !== group) { return; }
      if (field.type === "checkbox" || field.type === "radio") {
        field.checked = false;
      } else if (field.multiple) {
        Array.prototype.forEach.call(field.options, function (option) { option.selected = false; });
      } else if (field.tagName === "SELECT") {
        field.selectedIndex = 0;
      } else {
        field.value = "";
      }
    });
  }

  function putBack(name, value) {
    var field = form.elements[name];
    var first = form.querySelector("[name^='" + groupOf(name) + "-']");
    var table = first ? first.closest("table") : null;
    while (!field && table && table.tBodies[0].rows.length < 200) {
      addRow(table);
      field = form.elements[name];
    }
    if (!field) { return; }
    var boxes = field.type === "checkbox" || field.type === "radio" ? [field]
      : (!field.options && field.length !== undefined ? field : null);  // several ticks
    if (boxes) {
      Array.prototype.forEach.call(boxes, function (box) {
        if (box.value === value) { box.checked = true; }
      });
    } else if (field.multiple) {
      Array.prototype.forEach.call(field.options, function (option) {
        if (option.value === value) { option.selected = true; }
      });
    } else {
      field.value = value;
    }
  }

  /* Changes kept on this device by an earlier visit go back into the fields and are
     sent with the version they were typed on: if someone saved since, the server says
     so (a conflict) instead of being overwritten. */
  function restoreFromDevice() {
    var kept = null, handedOver = true;
    try { kept = JSON.parse(window.localStorage.getItem(deviceKey) || "null"); } catch (unreadable) { kept = null; }
    if (!kept || !kept.changed || !kept.changed.length) { return; }
    kept.changed.forEach(function (group) {
      edits[group] = 1;
      if (form.querySelector("[name='" + group + "'], [name^='" + group + "-']")) {
        clearGroup(group);
        handedOver = false;
      } else {
        elsewhere[group] = [];
      }
    });
    kept.values.forEach(function (pair) {
      var group = groupOf(pair[0]);
      if (elsewhere[group]) { elsewhere[group].push(pair); } else { putBack(pair[0], pair[1]); }
    });
    form.elements.version.value = kept.version;
    totals();
    if (kept.handedOver && handedOver) {
      showStatus("saving", words.handedOver);
    } else {
      showStatus("restored", words.restored);
    }
    save();
  }

  form.addEventListener("submit", function (event) {
    // The Save button sends the changes in the background; without changes, or to see
    // why a save was refused next to the fields, the page is posted as without script.
    // "Save and continue" goes on once they are saved (at once when nothing changed).
    var button = event.submitter;
    var state = status.getAttribute("data-state");
    if (button && button.name === "continue" && state !== "refused") {
      event.preventDefault();
      continueTo = button.getAttribute("data-next");
      // The changes go with the person: kept on the device, sent by the next part's page
      // as it opens, so that they wait for one page, not for a save and then a page.
      var handOver = button.hasAttribute("data-hand-over") && !currentVersion && !saving &&
        navigator.onLine !== false;
      if (!Object.keys(edits).length || (handOver && keepOnDevice(true))) {
        window.location.href = continueTo;
        return;
      }
      if (currentVersion) { setVersion(currentVersion); }
      asked = true;
      save();
      return;
    }
    if (!button || button.name || !Object.keys(edits).length || state === "refused") { return; }
    event.preventDefault();
    if (currentVersion) { setVersion(currentVersion); }
    asked = true;
    save();
  });
  form.addEventListener("input", noteChange);
  form.addEventListener("change", noteChange);
  window.addEventListener("online", function () { retryDelay = 0; save(); });
  restoreFromDevice();
}());

/* SDG targets: a filter box above the goals; typing "8.6" or "education" shows only the
   goals and targets that match, opened. Without it every goal is still there to open. */
function sdgTargetFilter() {
  "use strict";
  var fieldset = document.querySelector(".sdg-goals");
  if (!fieldset) { return; }
  var label = document.createElement("label");
  var box = document.createElement("input");
  box.type = "search";
  box.id = fieldset.id + "-filter";
  box.setAttribute("autocomplete", "off");
  label.htmlFor = box.id;
  label.textContent = (window.formWords || {}).filter || "";
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

sdgTargetFilter();

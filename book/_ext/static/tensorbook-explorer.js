// The static book's explorers: each .tb-explorer embeds the states its build drew (the same drawing code as
// the live widget in JupyterLab) and the grid of each control; moving a control shows the matching state.
// A control's grid may depend on the controls before it (the slices of the mode picked above it).
// After each redraw the element carries data-state (the indices of the state shown), data-redraw-ms (from the
// control's event to the decoded image) and data-redraws (a count).
(function () {
  "use strict";

  function setup(root) {
    var data = JSON.parse(root.querySelector("script.tb-explorer-states").textContent);
    var controls = data.controls, states = data.states;
    var index = data.initial.split(",").map(Number);
    var box = root.querySelector(".tb-explorer-controls");
    var entries = controls.map(function (control, j) {
      var wrap = document.createElement("div");
      wrap.className = "tb-explorer-control";
      var label = document.createElement("label");
      var name = document.createElement("span");
      name.className = "tb-explorer-name";
      name.textContent = control.description;
      label.appendChild(name);
      var input;
      if (control.kind === "select") {
        input = document.createElement("select");
      } else {
        input = document.createElement("input");
        input.type = "range";
        input.min = 0;
        input.step = 1;
      }
      input.setAttribute("data-control", control.name);
      label.appendChild(input);
      var readout = null;
      if (control.kind !== "select") {
        readout = document.createElement("output");
        label.appendChild(readout);
      }
      wrap.appendChild(label);
      if (control.note) {
        var note = document.createElement("div");
        note.className = "tb-explorer-note";
        note.textContent = control.note;
        wrap.appendChild(note);
      }
      box.appendChild(wrap);
      return {input: input, readout: readout, label: null};
    });

    function grid(j) {
      return controls[j].grids[index.slice(0, j).join(",")];
    }

    function fill(j) {  // control j's values given the controls before it, keeping its value if it can
      var labels = grid(j), entry = entries[j];
      var k = entry.label === null ? index[j] : labels.indexOf(entry.label);
      if (k < 0) k = Math.min(index[j], labels.length - 1);
      index[j] = k;
      if (controls[j].kind === "select") {
        entry.input.textContent = "";
        labels.forEach(function (text, i) {
          var option = document.createElement("option");
          option.value = String(i);
          option.textContent = text;
          entry.input.appendChild(option);
        });
      } else {
        entry.input.max = labels.length - 1;
        entry.readout.textContent = labels[k];
      }
      entry.input.value = String(k);
      entry.label = labels[k];
    }

    function show() {
      var start = performance.now();
      var key = index.join(","), state = states[key];
      root.querySelector(".tb-explorer-caption").textContent = state.caption;
      var text = root.querySelector(".tb-explorer-text");
      if (text && state.text !== undefined) text.innerHTML = state.text;
      var image = root.querySelector(".tb-explorer-figure");
      function done() {
        if (key !== index.join(",")) return;  // a later move superseded this one: its own done() reports
        root.setAttribute("data-state", key);
        root.setAttribute("data-redraw-ms", (performance.now() - start).toFixed(1));
        root.setAttribute("data-redraws", String(Number(root.getAttribute("data-redraws")) + 1));
        root.dispatchEvent(new CustomEvent("tb-explorer-redrawn", {detail: key}));
      }
      if (image && state.img) {
        image.src = state.img;
        (image.decode ? image.decode() : Promise.resolve()).then(done, done);
      } else {
        done();
      }
    }

    entries.forEach(function (entry, j) {
      entry.input.addEventListener("input", function () {
        index[j] = Number(entry.input.value);
        entry.label = grid(j)[index[j]];
        if (entry.readout) entry.readout.textContent = entry.label;
        for (var k = j + 1; k < controls.length; k++) fill(k);
        show();
      });
    });
    for (var j = 0; j < controls.length; j++) fill(j);
    root.setAttribute("data-state", index.join(","));
    root.setAttribute("data-redraws", "0");
    root.setAttribute("data-ready", "1");
  }

  function init() {
    document.querySelectorAll(".tb-explorer").forEach(setup);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

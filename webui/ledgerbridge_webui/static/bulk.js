// Live progress of a bulk sync: polls the run's JSON until it is done or cancelled.
(function () {
  var box = document.getElementById("bulk-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-url");
  var bar = box.querySelector("progress");
  var finished = { done: true, cancelled: true };
  var wasRunning = !finished[box.getAttribute("data-state")];

  function show(run) {
    bar.value = run.percent;
    box.setAttribute("data-state", run.state);
    Array.prototype.forEach.call(box.querySelectorAll("[data-field]"), function (node) {
      var name = node.getAttribute("data-field");
      if (Object.prototype.hasOwnProperty.call(run, name)) {
        node.textContent = run[name];
      }
    });
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (run) {
        show(run);
        if (finished[run.state]) {
          // Reload once so the buttons and the dry-run summary match the final state.
          if (wasRunning) { window.location.reload(); }
          return;
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }

  if (wasRunning) { poll(); }
})();

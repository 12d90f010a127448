// Sorting and filtering of the verdict table. Each verdict is one <tbody> (its row
// and its folded votes), so both move together.
(function () {
  "use strict";
  var table = document.getElementById("verdicts");
  var filter = document.getElementById("filter");
  var outcome = document.getElementById("outcome");
  var shown = document.getElementById("shown");
  var groups = Array.prototype.slice.call(table.tBodies);

  function apply() {
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    var wanted = outcome.value;
    var visible = 0;
    groups.forEach(function (group) {
      var text = group.getAttribute("data-search");
      var ok = (!wanted || group.getAttribute("data-outcome") === wanted) &&
        words.every(function (w) { return text.indexOf(w) !== -1; });
      group.classList.toggle("hidden", !ok);
      if (ok) { visible += 1; }
    });
    shown.textContent = visible + " of " + groups.length + " shown";
  }

  function sortBy(header, index) {
    var numeric = header.getAttribute("data-type") === "number";
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      cell.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    function key(group) {
      var cell = group.rows[0].cells[index];
      var value = cell ? cell.getAttribute("data-sort") || "" : "";
      return numeric ? parseFloat(value) : value.toLowerCase();
    }
    groups.sort(function (a, b) {
      var x = key(a), y = key(b);
      var order = x < y ? -1 : x > y ? 1 : 0;
      return ascending ? order : -order;
    });
    groups.forEach(function (group) { table.appendChild(group); });
  }

  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, index) {
    header.addEventListener("click", function () { sortBy(header, index); });
  });
  filter.addEventListener("input", apply);
  outcome.addEventListener("change", apply);
  apply();
})();

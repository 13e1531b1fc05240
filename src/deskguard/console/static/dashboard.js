/* The dashboard's charts: Chart.js (vendored) draws what the page's JSON data block holds. The tables
   beside each chart carry the same figures for screen readers and for browsers without JavaScript. */
(function () {
  "use strict";
  function draw() {
    var block = document.getElementById("chart-data");
    if (!block || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(block.textContent);
    var colours = ["#b42318", "#d4542a", "#9a6700", "#0a5bd3", "#57606a"];
    var severity = document.getElementById("chart-severity");
    if (severity) {
      new window.Chart(severity, {
        type: "bar",
        data: { labels: data.severity.labels, datasets: [{ label: data.severity.label, data: data.severity.values, backgroundColor: colours }] },
        options: { animation: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
      });
    }
    var operators = document.getElementById("chart-operators");
    if (operators) {
      new window.Chart(operators, {
        type: "bar",
        data: {
          labels: data.operators.labels,
          datasets: data.operators.series.map(function (s, i) { return { label: s.label, data: s.values, backgroundColor: i ? "#8c959f" : "#0a5bd3" }; })
        },
        options: { animation: false, indexAxis: "y", scales: { x: { beginAtZero: true } } }
      });
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();

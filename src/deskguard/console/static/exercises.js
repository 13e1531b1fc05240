/* The exercises' trends chart: Chart.js (vendored) draws the outcome shares the page's JSON data block
   holds, as stacked bars. The table below the chart carries the same figures for screen readers and
   for browsers without JavaScript. */
(function () {
  "use strict";
  function draw() {
    var block = document.getElementById("chart-data");
    var canvas = document.getElementById("chart-outcomes");
    if (!block || !canvas || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(block.textContent);
    var colours = ["#1a7f37", "#0a5bd3", "#8250df", "#d4542a"];
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (s, i) { return { label: s.label, data: s.values, backgroundColor: colours[i % colours.length] }; })
      },
      options: { animation: false, indexAxis: "y", scales: { x: { stacked: true, beginAtZero: true, max: 100 }, y: { stacked: true } } }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();

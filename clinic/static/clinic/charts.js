// Draws every <canvas data-chart="ID"> from the JSON in <script id="ID"> (Chart.js, served
// from this site). A chart's data: {labels, datasets: [{label, data}]}, or for a patient's
// scores {datasets: [{label, data: [{x: epoch ms, y}]}], sessions: [epoch ms, ...]}.
(function () {
  "use strict";
  function day(ms) {  // the date where the chart is read, not in UTC
    var d = new Date(ms);
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" +
      String(d.getDate()).padStart(2, "0");
  }
  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#d62728", "#aec7e8", "#ffbb78", "#98df8a"];
  function draw(canvas) {
    var data = JSON.parse(document.getElementById(canvas.dataset.chart).textContent);
    var kind = canvas.dataset.kind;
    var options = { responsive: true, animation: false, spanGaps: true };
    data.datasets.forEach(function (dataset, i) {
      dataset.borderColor = dataset.backgroundColor = PALETTE[i % PALETTE.length];
    });
    if (kind === "percent") {
      kind = "line";
      options.scales = { y: { min: 0, max: 100, title: { display: true, text: "%" } } };
    }
    if (kind === "bar") {
      options.scales = { x: { stacked: true }, y: { stacked: true, beginAtZero: true } };
    }
    if (kind === "scores") {
      kind = "line";
      var sessions = (data.sessions || []).map(function (x) { return { x: x, y: 0 }; });
      data.datasets.push({
        label: "Sessions", data: sessions, showLine: false, pointStyle: "triangle",
        pointRadius: 7, borderColor: "#c00", backgroundColor: "#c00"
      });
      // Pain on 0-10 against its own axis; the 0-100 instruments on the left one.
      data.datasets.forEach(function (dataset) {
        if (dataset.label.indexOf("(0-10)") >= 0) { dataset.yAxisID = "pain"; }
      });
      options.scales = {
        x: { type: "linear", ticks: { callback: day } },
        y: { beginAtZero: true, suggestedMax: 100 },
        pain: { position: "right", min: 0, max: 10, grid: { drawOnChartArea: false },
                title: { display: true, text: "NPRS" } }
      };
      options.plugins = {
        tooltip: { callbacks: { title: function (items) { return day(items[0].parsed.x); } } }
      };
    }
    new Chart(canvas, { type: kind, data: data, options: options });
  }
  function drawAll() {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();

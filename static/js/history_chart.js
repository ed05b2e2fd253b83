/* The history chart: a real time axis in the zone the page names (the luxon adapter's zone),
   one y axis per unit with the unit as its title, human names in the legend, gaps as breaks;
   or energy per hour/day per rate as stacked bars. Data comes from the history-data script. */
document.addEventListener("DOMContentLoaded", function () {
  var canvas = document.getElementById("history-chart");
  if (!canvas || !window.Chart) { return; }
  var zone = canvas.dataset.zone || "UTC";
  var data = JSON.parse(document.getElementById("history-data").textContent);
  var timeAxis = function (unit) {
    return {
      type: "time", adapters: {date: {zone: zone}},
      time: {unit: unit, tooltipFormat: "yyyy-MM-dd HH:mm:ss ZZZZ",
             displayFormats: {second: "HH:mm:ss", minute: "HH:mm", hour: "dd HH:mm", day: "yyyy-MM-dd", month: "yyyy-MM"}},
      ticks: {maxRotation: 0, autoSkip: true, maxTicksLimit: 12},
      title: {display: true, text: "Time (" + zone + ")"}
    };
  };
  if (canvas.dataset.kind === "energy") {
    var bucket = data.bucket === "hour" ? "hour" : "day";
    new Chart(canvas, {
      type: "bar",
      data: {labels: data.labels, datasets: data.datasets},
      options: {scales: {x: Object.assign(timeAxis(bucket), {stacked: true, offset: true}),
                         y: {stacked: true, beginAtZero: true, title: {display: true, text: data.unit}}}}
    });
    return;
  }
  var units = [];
  var datasets = data.series.map(function (s) {
    var unit = s.unit || "value";
    if (units.indexOf(unit) < 0) { units.push(unit); }
    return {label: s.label + (s.unit ? " (" + s.unit + ")" : ""), data: s.points, yAxisID: "y" + units.indexOf(unit),
            pointRadius: 0, spanGaps: false};
  });
  var scales = {x: timeAxis(undefined)};
  units.forEach(function (unit, i) {
    scales["y" + i] = {position: i % 2 ? "right" : "left", title: {display: true, text: unit},
                       grid: {drawOnChartArea: i === 0}};
  });
  new Chart(canvas, {type: "line", data: {datasets: datasets},
                     options: {parsing: {xAxisKey: "x", yAxisKey: "y"}, scales: scales, spanGaps: false}});
});

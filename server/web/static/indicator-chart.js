/* The chart of an indicator page: for each panel of <script id="ind-chart-data"> (points
 * {period, area, status, value, label} in the panel's readable unit) a line per area and status
 * over the periods, targets dashed and marked by another shape.  Vega runs in its CSP-safe mode (vega-interpreter). */
(function () {
  "use strict";
  var dataEl = document.getElementById("ind-chart-data");
  if (!dataEl || typeof vegaEmbed !== "function") return;
  var data;
  try { data = JSON.parse(dataEl.textContent); } catch (e) { return; }
  data.panels.forEach(function (panel, i) {
    var holder = document.getElementById("ind-chart-" + (i + 1));
    if (!holder) return;
    var areas = {};
    panel.points.forEach(function (p) { areas[p.area] = true; p.series = p.area + " · " + p.status; });
    var spec = {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      data: { values: panel.points },
      width: Math.max(280, Math.min(900, (holder.clientWidth || 800) - 180)),
      height: 260,
      config: {
        font: "system-ui, -apple-system, 'PingFang SC', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif",
        axis: { labelFontSize: 12, titleFontSize: 12 },
        legend: { labelFontSize: 12, titleFontSize: 12, labelLimit: 260 },
        view: { stroke: null }
      },
      mark: { type: "line", point: { size: 60 }, tooltip: true },
      encoding: {
        x: { field: "period", type: "ordinal", title: data.period, axis: { labelAngle: 0 } },
        y: { field: "value", type: "quantitative", title: panel.axis, axis: { format: ",.4~f" } },
        color: { field: "area", type: "nominal", title: data.area },
        strokeDash: { field: "status", type: "nominal", title: data.status },
        shape: { field: "status", type: "nominal", title: data.status },
        detail: { field: "series" },
        tooltip: [{ field: "area", title: data.area }, { field: "period", title: data.period },
                  { field: "status", title: data.status }, { field: "label", title: panel.axis }]
      }
    };
    var periods = {};
    panel.points.forEach(function (p) { periods[p.period] = true; });
    if (Object.keys(periods).length === 1) {  // one period: the areas side by side
      // several values of one area (two sources, or actual and expected) overlap, never add up
      spec.mark = { type: "bar", tooltip: true, opacity: 0.6 };
      spec.height = { step: 22 };
      spec.encoding = {
        y: { field: "area", type: "nominal", title: null, sort: "-x" },
        x: { field: "value", type: "quantitative", stack: null, title: panel.axis + " (" + panel.points[0].period + ")", axis: { format: ",.4~f" } },
        color: { field: "status", type: "nominal", title: data.status },
        tooltip: spec.encoding.tooltip
      };
    }
    var opts = { renderer: "svg", actions: false, defaultStyle: false, ast: true,
                 tooltip: { disableDefaultStyle: true } };
    if (window.vegaInterpreter) opts.expr = window.vegaInterpreter.expressionInterpreter;
    vegaEmbed(holder, spec, opts).then(function () {
      holder.setAttribute("data-rendered", "true");
      var loading = holder.querySelector(".loading");
      if (loading) loading.remove();
    }).catch(function (err) {
      holder.setAttribute("data-error", String(err && err.message || err));
      holder.textContent = String(err && err.message || err);
    });
  });
})();

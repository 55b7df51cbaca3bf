/* Draws the chart of a saved query from its SPARQL JSON results (a <script type="application/json"
 * id="chart-data"> block: {chart: {type, x, y, color}, results, lang}) with Vega-Lite.  Vega runs in
 * its CSP-safe mode: expressions are interpreted (vega-interpreter), not compiled with Function(). */
(function () {
  "use strict";
  var holder = document.getElementById("chart");
  var dataEl = document.getElementById("chart-data");
  if (!holder || !dataEl) return;

  var NUMERIC = /#(integer|decimal|double|float|int|long|short|nonNegativeInteger|positiveInteger|unsignedInt)$/;

  function rowsOf(results) {
    var vars = (results.head && results.head.vars) || [];
    var bindings = (results.results && results.results.bindings) || [];
    return bindings.map(function (b) {
      var row = {};
      vars.forEach(function (v) {
        var cell = b[v];
        if (!cell) { row[v] = null; return; }
        if (cell.datatype && NUMERIC.test(cell.datatype)) row[v] = Number(cell.value);
        else row[v] = cell.value;
      });
      return row;
    });
  }

  function spec(chart, values, lang) {
    var x = chart.x, y = chart.y, color = chart.color;
    var longest = values.reduce(function (m, r) { return Math.max(m, String(r[x] || "").length); }, 0);
    var base = {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      data: { values: values },
      width: Math.max(280, (holder.clientWidth || 800) - 16),
      config: {
        font: "system-ui, -apple-system, 'PingFang SC', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif",
        axis: { labelFontSize: 12, titleFontSize: 12, labelLimit: 320 },
        legend: { labelFontSize: 12, titleFontSize: 12, labelLimit: 260 },
        view: { stroke: null }
      }
    };
    var tooltip = [{ field: x, type: "nominal" }, { field: y, type: "quantitative" }];
    if (color) tooltip.push({ field: color, type: "nominal" });
    if (chart.type === "bar") {
      base.height = { step: values.length > 30 ? 16 : 26 };
      base.autosize = { type: "pad" };
      var enc = {
        y: { field: x, type: "nominal", sort: color ? null : { field: y, op: "sum", order: "descending" }, title: null,
             axis: { labelLimit: Math.min(360, 14 * longest + 20), labelFontSize: 13 } },
        x: { field: y, type: "quantitative", title: y },
        tooltip: tooltip
      };
      if (color) {
        base.mark = { type: "bar", tooltip: true };
        enc.color = { field: color, type: "nominal" };
        enc.yOffset = { field: color, type: "nominal" };
        base.height = { step: 12 };
        base.encoding = enc;
      } else {
        base.encoding = enc;
        base.layer = [
          { mark: { type: "bar", color: "#0b5d7a", tooltip: true } },
          { mark: { type: "text", align: "left", dx: 4, fontSize: 12, color: "#1d2630" },
            encoding: { text: { field: y, type: "quantitative", format: ",.4~f" } } }
        ];
      }
    } else if (chart.type === "line") {
      base.height = 320;
      base.mark = { type: "line", point: true, tooltip: true };
      base.encoding = {
        x: { field: x, type: "ordinal", title: x, sort: null },
        y: { field: y, type: "quantitative", title: y },
        tooltip: tooltip
      };
      if (color) base.encoding.color = { field: color, type: "nominal" };
    } else if (chart.type === "pie") {
      base.height = 320;
      base.mark = { type: "arc", innerRadius: 40, tooltip: true };
      base.encoding = {
        theta: { field: y, type: "quantitative" },
        color: { field: x, type: "nominal", title: x, sort: null },
        tooltip: tooltip
      };
      base.view = { stroke: null };
    } else {
      return null;
    }
    return base;
  }

  var data;
  try { data = JSON.parse(dataEl.textContent); } catch (e) { holder.textContent = String(e); return; }
  var values = rowsOf(data.results || {}).filter(function (r) { return r[data.chart.y] !== null; });
  // Large amounts on a readable axis: 4.72 (万亿 / trillion), not 4,720,000,000,000.  The values
  // are divided by a power of ten and the axis title says by which; the table keeps them as given.
  var chart = Object.assign({}, data.chart);
  var top = values.reduce(function (m, r) { return Math.max(m, Math.abs(Number(r[chart.y]) || 0)); }, 0);
  var zh = data.lang !== "en";
  var scales = zh ? [[1e12, "万亿"], [1e8, "亿"]] : [[1e12, "trillion"], [1e9, "billion"], [1e6, "million"]];
  var scale = null;
  for (var i = 0; i < scales.length; i++) { if (top >= scales[i][0]) { scale = scales[i]; break; } }
  if (scale && typeof values[0][chart.y] === "number") {
    var field = chart.y + (zh ? "(" + scale[1] + ")" : " (" + scale[1] + ")");
    values.forEach(function (r) { r[field] = Number(r[chart.y]) / scale[0]; });
    chart.y = field;
  }
  // A bar per row: a name that comes again (several facts of one indicator) is numbered, so
  // that its bars stand apart instead of being stacked into a sum no row states.
  if (chart.type === "bar" && !chart.color) {
    var seen = {};
    values.forEach(function (r) {
      var name = String(r[chart.x]);
      seen[name] = (seen[name] || 0) + 1;
      if (seen[name] > 1) r[chart.x] = name + " (" + seen[name] + ")";
    });
  }
  var s = spec(chart, values, data.lang);
  if (!s || typeof vegaEmbed !== "function") { holder.textContent = ""; return; }
  var opts = {
    renderer: "svg",
    actions: false,
    defaultStyle: false,
    ast: true,
    tooltip: { disableDefaultStyle: true }
  };
  if (window.vegaInterpreter) opts.expr = window.vegaInterpreter.expressionInterpreter;
  vegaEmbed(holder, s, opts).then(function (result) {
    holder.setAttribute("data-rendered", "true");
    var svg = holder.querySelector("svg");
    if (svg) {
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", holder.getAttribute("aria-label") || "chart");
    }
    var loading = holder.querySelector(".loading");
    if (loading) loading.remove();
    return result;
  }).catch(function (err) {
    holder.setAttribute("data-error", String(err && err.message || err));
    holder.textContent = String(err && err.message || err);
  });
})();

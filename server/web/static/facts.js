/* Sort and filter the facts tables the server rendered (table.facts-table): a click on a column
 * head sorts by it (again: reverse); the filter box hides the rows whose text does not contain
 * every word typed.  Rows are moved and hidden, never rebuilt: no data becomes HTML here. */
(function () {
  "use strict";
  var collator = new Intl.Collator(document.documentElement.lang || "zh", { numeric: true });

  function rowsOf(table) { return Array.prototype.slice.call(table.tBodies[0].rows); }

  function sortBy(table, th) {
    var key = th.getAttribute("data-key");
    var numeric = th.getAttribute("data-type") === "number";
    var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    var rows = rowsOf(table);
    rows.sort(function (a, b) {
      var x = a.getAttribute("data-" + key) || "", y = b.getAttribute("data-" + key) || "";
      if (numeric) {  // amounts of one unit base together (yuan, %, items …), then by size
        if (x === "" || y === "") return (x === "") - (y === "");
        var bx = a.getAttribute("data-base") || "", by = b.getAttribute("data-base") || "";
        if (bx !== by) return collator.compare(bx, by);
        return dir * (Number(x) - Number(y));
      }
      return dir * collator.compare(x, y);
    });
    var body = table.tBodies[0];
    rows.forEach(function (r) { body.appendChild(r); });
  }

  function count(table) {
    var out = document.querySelector('[data-count-for="' + table.id + '"]');
    if (!out) return;
    var rows = rowsOf(table), shown = rows.filter(function (r) { return !r.hidden; }).length;
    var zh = (document.documentElement.lang || "").indexOf("zh") === 0;
    out.textContent = zh ? "显示 " + shown + " / " + rows.length + " 条" : shown + " of " + rows.length + " shown";
  }

  function filter(table, text) {
    var words = text.toLowerCase().split(/\s+/).filter(Boolean);
    rowsOf(table).forEach(function (r) {
      var hay = r.textContent.toLowerCase();
      r.hidden = !words.every(function (w) { return hay.indexOf(w) >= 0; });
    });
    count(table);
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.facts-table"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      if (!th.getAttribute("data-key")) return;
      var b = document.createElement("button");
      b.type = "button";
      b.className = "sort";
      while (th.firstChild) b.appendChild(th.firstChild);
      th.appendChild(b);
      b.addEventListener("click", function () { sortBy(table, th); });
    });
    var box = document.querySelector('[data-filter-for="' + table.id + '"]');
    if (box) box.addEventListener("input", function () { filter(table, box.value); });
    count(table);
  });

  // an area's named things: following a kind's link (#named-event) opens its list
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (el && el.tagName === "DETAILS") el.open = true;
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
})();

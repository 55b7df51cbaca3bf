/* The query editor: YASGUI (vendored), pointed at this site's SPARQL endpoint, with the
 * dataset's prefixes and the saved queries ready to load.  Its configuration comes from the
 * <script type="application/json" id="editor-config"> block of the page.
 *
 * One tab per visit: YASGUI's tab persistence is off (persistenceId null), so a visit never
 * adds to the tabs of earlier visits; YASGUI does not read ?query= itself (populateFromUrl
 * false): the server resolves ?query=<slug> to the saved query (cfg.initial), which fills the
 * one tab, names it and runs once.  Result tables show literals plainly (the table plugin's
 * "compact" mode by default: 2024, not "2024"^^xsd:gYear). */
(function () {
  "use strict";
  var cfgEl = document.getElementById("editor-config");
  var root = document.getElementById("yasgui");
  if (!cfgEl || !root || !window.Yasgui) return;
  var cfg = JSON.parse(cfgEl.textContent);
  var Yasgui = window.Yasgui.default || window.Yasgui.Yasgui || window.Yasgui;

  // The result table shows data as text.  YASR's own cells are HTML strings with the IRI put in
  // an attribute unescaped (an IRI may hold ' and =, so it could add attributes); here every
  // piece of data is escaped before it becomes part of a cell, and only http(s) IRIs are links.
  function esc(s) {
    return String(s).replace(/[&<>"'`=]/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; });
  }
  function shortIri(iri, prefixes) {
    for (var p in prefixes || {}) {
      if (Object.prototype.hasOwnProperty.call(prefixes, p) && prefixes[p] && iri.indexOf(prefixes[p]) === 0) {
        return p + ":" + iri.substring(prefixes[p].length);
      }
    }
    return null;
  }
  function iriHtml(iri, prefixes, compact) {
    var short = shortIri(iri, prefixes);
    var label = esc(short || (compact ? iri : "<" + iri + ">"));
    if (!/^https?:\/\//i.test(iri)) return "<span class='iri'>" + label + "</span>";
    return "<a class='iri' target='_blank' rel='noopener noreferrer' href='" + esc(iri) + "'>" + label + "</a>";
  }
  var Yasr = Yasgui.Yasr || window.Yasr;
  var Table = Yasr && Yasr.plugins && Yasr.plugins.table;
  if (Table && Table.prototype) {
    Table.prototype.getCellContent = function (b, prefixes) {
      var compact = !!(this.persistentConfig && this.persistentConfig.compact);
      if (!b) return "";
      if (b.type === "uri") return "<div><span>" + iriHtml(b.value, prefixes, compact) + "</span></div>";
      if (b.type === "bnode") return "<div><span class='nonIri'>_:" + esc(b.value) + "</span></div>";
      if (b.type !== "literal" && b.type !== "typed-literal") {
        return "<div><span class='nonIri'>" + esc(JSON.stringify(b.value)) + "</span></div>";
      }
      var html = esc(b.value);
      if (!compact) {
        if (b["xml:lang"]) html = "\"" + html + "\"<sup>@" + esc(b["xml:lang"]) + "</sup>";
        else if (b.datatype) html = "\"" + html + "\"<sup>^^" + iriHtml(b.datatype, prefixes, false) + "</sup>";
      }
      return "<div><span class='nonIri'>" + html + "</span></div>";
    };
  }

  var Yasr = Yasgui.Yasr || window.Yasgui.Yasr;
  var Table = Yasr && Yasr.plugins && Yasr.plugins.table;
  if (Table && Table.prototype && !Table.prototype.econplanPlain) {
    var draw = Table.prototype.draw;
    Table.prototype.draw = function (settings) {
      var s = Object.assign({}, settings || {});
      if (s.compact === undefined && this.persistentConfig.compact === undefined) s.compact = true;
      return draw.call(this, s);
    };
    Table.prototype.econplanPlain = true;
  }

  var initial = cfg.initial || null;
  var yasgui = new Yasgui(root, {
    requestConfig: { endpoint: cfg.endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    tabName: initial ? initial.title : cfg.tabName,
    persistenceId: null,
    populateFromUrl: false,
    endpointCatalogueOptions: {
      getData: function () { return [{ endpoint: cfg.endpoint }]; },
      keys: []
    },
    yasqe: {
      value: initial ? initial.sparql : cfg.defaultQuery,
      prefixCcApi: cfg.prefixesUrl,
      autocompleters: ["prefixes", "variables"],
      editorHeight: "340px",
      collapsePrefixesOnLoad: true
    },
    yasr: {
      prefixes: cfg.prefixes,
      defaultPlugin: "table"
    }
  });
  window.econplanYasgui = yasgui;

  var byslug = {};
  (cfg.queries || []).forEach(function (q) { byslug[q.slug] = q; });

  function fill(tab, title, sparql) {
    tab.setEndpoint(cfg.endpoint);
    if (tab.setName) tab.setName(title);
    tab.setQuery(sparql);
  }

  function load(slug) {
    var q = byslug[slug];
    if (!q) return;
    // one tab per saved query: reuse it when it is open, else open a new one
    var found = null;
    Object.keys(yasgui._tabs || {}).forEach(function (id) {
      var tab = yasgui.getTab(id);
      if (tab && tab.getName && tab.getName() === q.title) found = tab;
    });
    if (found) {
      yasgui.selectTabId(found.getId());
      fill(found, q.title, q.sparql);
    } else {
      yasgui.addTab(true, { name: q.title, yasqe: { value: q.sparql },
                            requestConfig: { endpoint: cfg.endpoint } });
    }
  }

  var current = yasgui.getTab();
  if (current) {
    if (initial) fill(current, initial.title, initial.sparql);
    else current.setEndpoint(cfg.endpoint);
    if (initial && initial.run) current.query();
  }

  var select = document.getElementById("example");
  if (select) {
    select.addEventListener("change", function () {
      if (select.value) load(select.value);
    });
  }
})();

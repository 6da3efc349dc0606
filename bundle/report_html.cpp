// The HTML form of `forage bundle report`: one self-contained file (inline CSS and JavaScript,
// no fonts, no images; a Content-Security-Policy forbids every fetch). Everything from the bundle
// is HTML-escaped; the timeline is built by the page's script from an inline JSON block with
// textContent only. The first screen (host, targets, indicator hits, SSH-log coverage, not
// collected) comes before the Guideline; the timeline and the full tables are collapsed
// (<details>) and opened for printing. The TLP label is in the page's header and footer and, in
// print, in the margin of every page.
#include <cctype>

#include "bundle/report_internal.h"
#include "common/strings.h"

namespace forage::bundle {

using namespace detail;

namespace {

// Nothing may be fetched: no network, no external fonts or scripts.
constexpr const char* kHtmlCsp =
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
    "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n";

constexpr const char* kHtmlCss =
    R"CSS(body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 2em 3em;color:#111;background:#fff;font-size:15px}
.tlp{font-weight:bold;padding:.3em .8em;margin:.5em 0;display:inline-block;border-radius:3px;background:#000}
.tlp-red{color:#FF2B2B}.tlp-amber{color:#FFC000}.tlp-green{color:#33FF00}.tlp-clear{color:#fff}
header,footer{text-align:right}
h1{margin-top:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.3em}
.valid{color:#060;font-weight:bold}.invalid{color:#b00;font-weight:bold}
dl{display:grid;grid-template-columns:16em 1fr;gap:.4em 1em}dt{font-weight:bold}dd{margin:0;overflow-wrap:anywhere}
dd table{margin-top:.2em;width:auto;min-width:60%}
.human{background:#fff4cc}.missing{color:#888;font-style:italic}.q{color:#555;font-style:italic;display:block}
table{border-collapse:collapse;width:100%;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ccc;padding:.2em .4em;text-align:left;vertical-align:top}td{overflow-wrap:anywhere}th{overflow-wrap:normal}td.nw{white-space:nowrap}
th{background:#eee}table.sortable th{cursor:pointer;user-select:none}th.asc::after{content:" \25B2"}th.desc::after{content:" \25BC"}
td code{font-size:.95em}td[title]{cursor:help}
#first{background:#f7f9fc;border:1px solid #c8d3e6;border-radius:4px;padding:0 1em .5em;margin:1em 0}
#first h2{margin-top:.8em;font-size:1.2em}
.flag{color:#b00;font-weight:bold}
details{margin:.6em 0}details>summary{cursor:pointer;font-weight:bold;font-size:1.1em;padding:.2em 0}
input.filter{margin:.3em 0;padding:.2em;width:20em}
#timeline{list-style:none;padding:0;border-left:3px solid #888;margin-left:.5em}
#timeline li{padding:.15em .6em;margin:.1em 0;font-size:.85em}
#timeline time{font-family:monospace;margin-right:.8em}
#timeline .kind{display:inline-block;min-width:6em;font-weight:bold}
.ev-process .kind{color:#06c}.ev-login .kind{color:#b00}.ev-file .kind{color:#960}.ev-connection .kind{color:#909}.ev-action .kind{color:#555}.ev-log .kind{color:#c60}
#timeline .src{color:#888;margin-left:.8em}
@media print{body{margin:0;font-size:11px}input.filter,#tl-filters{display:none}
#first{border:none;padding:0;background:none}table{page-break-inside:auto}tr{page-break-inside:avoid}
.tlp{background:none;border:2px solid #000;color:#000}}
)CSS";

// Built with textContent only: nothing from the bundle is ever parsed as HTML.
constexpr const char* kHtmlScript = R"JS(<script>
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var ol = document.getElementById('timeline');
  var kinds = {};
  data.timeline.forEach(function (e) {
    var li = document.createElement('li');
    li.className = 'ev ev-' + String(e.kind).replace(/[^a-z]/g, '');
    li.setAttribute('data-kind', e.kind);
    var t = document.createElement('time'); t.textContent = e.utc || '?'; li.appendChild(t);
    var k = document.createElement('span'); k.className = 'kind'; k.textContent = e.kind; li.appendChild(k);
    var w = document.createElement('span'); w.className = 'what'; w.textContent = e.what; li.appendChild(w);
    if (e.source) { var s = document.createElement('span'); s.className = 'src'; s.textContent = e.source; li.appendChild(s); }
    ol.appendChild(li);
    kinds[e.kind] = (kinds[e.kind] || 0) + 1;
  });
  var filters = document.getElementById('tl-filters');
  Object.keys(kinds).sort().forEach(function (kind) {
    var label = document.createElement('label');
    var box = document.createElement('input');
    box.type = 'checkbox'; box.checked = true;
    box.addEventListener('change', function () {
      Array.prototype.forEach.call(ol.children, function (li) {
        if (li.getAttribute('data-kind') === kind) li.style.display = box.checked ? '' : 'none';
      });
    });
    label.appendChild(box);
    label.appendChild(document.createTextNode(' ' + kind + ' (' + kinds[kind] + ')  '));
    filters.appendChild(label);
  });
  function key(td) { var k = td.getAttribute('data-sort'); return k === null ? td.textContent : k; }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    var ths = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(ths, function (th, col) {
      th.addEventListener('click', function () {
        var asc = !th.classList.contains('asc');
        Array.prototype.forEach.call(ths, function (o) { o.classList.remove('asc', 'desc'); });
        th.classList.add(asc ? 'asc' : 'desc');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[col]), y = key(b.cells[col]);
          var nx = Number(x), ny = Number(y);
          var c = (x !== '' && y !== '' && !isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('input.filter'), function (input) {
    var table = document.getElementById(input.getAttribute('data-table'));
    input.addEventListener('input', function () {
      var q = input.value.toLowerCase();
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        r.style.display = r.textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
      });
    });
  });
  // Printing shows everything: the collapsed parts open for the print and close again after.
  var reopened = [];
  window.addEventListener('beforeprint', function () {
    Array.prototype.forEach.call(document.querySelectorAll('details:not([open])'), function (d) {
      d.open = true; reopened.push(d);
    });
  });
  window.addEventListener('afterprint', function () {
    reopened.forEach(function (d) { d.open = false; }); reopened = [];
  });
  document.body.setAttribute('data-timeline-events', String(ol.children.length));
})();
</script>
)JS";

// The TLP label in the margin of every printed page: a CSS string, so only the characters a
// label has (anything else from a hostile bundle is dropped).
std::string print_margin_css(const std::string& tlp) {
  std::string label;
  for (char c : tlp)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == ':' || c == '+' || c == '-' || c == ' ')
      label += c;
  label = label.substr(0, 40);
  return "@page{margin:1.8cm 1.2cm;@top-right{content:\"" + label +
         "\";font:bold 11pt sans-serif}@bottom-right{content:\"" + label +
         "\";font:bold 11pt sans-serif}@bottom-left{content:counter(page) \" / \" "
         "counter(pages);font:9pt sans-serif}}\n";
}

// From the doctype to the top of the body: TLP banner, title, bundle and bag.
std::string html_head(const J& r, const std::string& tlp, const std::string& cls) {
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  h += kHtmlCsp;
  h +=
      "<title>" + tlp + " — incident report " + html_escape(str(r["case"])) + "</title>\n<style>\n";
  h += kHtmlCss;
  h += print_margin_css(str(r["tlp"]));
  h += "</style></head>\n<body>\n";
  h += "<header class=\"tlp tlp-" + cls + "\" id=\"tlp-top\">" + tlp + "</header>\n";
  h += "<h1>Incident report " + html_escape(str(r["case"])) + "</h1>\n";
  h += "<p>Bundle <code>" + html_escape(printable(str(r["bundle"]), 300)) + "</code>, bag <code>" +
       html_escape(printable(str(r["bag"]), 300)) + "</code></p>\n";
  return h;
}

std::string html_verification(const J& v) {
  std::string h = "<p class=\"" + std::string(v["valid"].get<bool>() ? "valid" : "invalid") +
                  "\" id=\"verdict\">" + html_escape(str(v["verdict"])) + "</p>\n<p>" +
                  html_escape(str(v["payload_files"])) + " payload files (" +
                  html_escape(bytes_text(str(v["payload_bytes"]))) + "), " +
                  html_escape(str(v["actions"])) + " actions</p>\n<ul>\n";
  for (const auto& p : v["problems"])
    h += "<li class=\"invalid\">" + html_escape(str(p)) + "</li>\n";
  for (const auto& s : v["signatures"])
    h += "<li>signature " + html_escape(str(s["kind"])) + ": " +
         (s["valid"].get<bool>() ? "valid" : "NOT valid") +
         (s["trusted"].get<bool>() ? ", trusted" : ", not trusted") + ", signer " +
         html_escape(str(s["signer"])) + "</li>\n";
  h += "</ul>\n";
  return h;
}

// One cell: shown for people, the exact value kept for sorting (data-sort) and, for a shortened
// hash, on hover (title) and for copying (the full value is the cell's title).
std::string html_cell(const std::string& v, const std::string& format) {
  if (format == "hash" && short_hash(v) != v)
    return "<td class=\"nw\" title=\"" + html_escape(v) + "\" data-sort=\"" + html_escape(v) +
           "\"><code>" + html_escape(short_hash(v)) + "</code></td>";
  const std::string s = shown(v, format);
  // Short values (a pid, "SIGSTOP", "16 MiB") are not broken; long ones (paths, DNs) anywhere.
  std::string cls = s.size() <= 16 ? "nw" : "";
  if (v.find(" ⚠ indicator") != std::string::npos)
    cls += std::string(cls.empty() ? "" : " ") + "flag";
  return "<td" + (cls.empty() ? std::string() : " class=\"" + cls + "\"") +
         (s != v ? " data-sort=\"" + html_escape(v) + "\"" : std::string()) + ">" + html_escape(s) +
         "</td>";
}

// A table of the report; `id` non-empty: sortable, with a filter box.
std::string html_table(const J& t, const std::string& id) {
  if (t["rows"].empty()) return "<p class=\"missing\">(none)</p>\n";
  const J formats = t.value("formats", J::array());
  std::string h;
  if (!id.empty())
    h += "<input class=\"filter\" type=\"search\" placeholder=\"filter rows\" data-table=\"" + id +
         "\">\n";
  h += "<table" + (id.empty() ? std::string() : " class=\"sortable\" id=\"" + id + "\"") +
       "><thead><tr>";
  for (const auto& c : t["columns"]) h += "<th>" + html_escape(str(c)) + "</th>";
  h += "</tr></thead><tbody>\n";
  for (const auto& row : t["rows"]) {
    h += "<tr>";
    for (size_t i = 0; i < row.size(); ++i)
      h += html_cell(str(row[i]), i < formats.size() ? str(formats[i]) : "text");
    h += "</tr>\n";
  }
  h += "</tbody></table>\n";
  if (t.value("truncated", false))
    h += "<p>(only the first " + std::to_string(kMaxRows) + " rows)</p>\n";
  return h;
}

// The first screen: host, targets, indicator hits, SSH-log coverage, not collected.
std::string html_first_screen(const J& r) {
  std::string h = "<section id=\"first\">\n";
  for (const auto& b : r.value("summary", J::array())) {
    const std::string id = "first-" + html_escape(str(b["id"]));
    h += "<h2 id=\"" + id + "\">" + html_escape(str(b["title"])) + "</h2>\n";
    if (b.contains("text")) h += "<p>" + html_escape(str(b["text"])) + "</p>\n";
    // Sortable with a filter box only when there is something to sort.
    if (b.contains("table"))
      h += html_table(b["table"], b["table"]["rows"].size() > 5 ? "t-" + id : "");
  }
  h += "<h2 id=\"first-missing\">Not collected</h2>\n<ul>\n";
  for (const auto& m : r["not_collected"])
    h += "<li class=\"missing\">" + html_escape(str(m)) + "</li>\n";
  if (r["not_collected"].empty()) h += "<li>(nothing missing)</li>\n";
  return h + "</ul>\n</section>\n";
}

// One Guideline item: label, then question, value (text, list or table) and hints.
std::string html_item(const J& i) {
  std::string state = str(i["state"]);
  std::string c = state == "human"           ? " class=\"human\""
                  : state == "not collected" ? " class=\"missing\""
                                             : "";
  std::string h = "<dt>" + html_escape(str(i["label"])) + "</dt><dd" + c + ">";
  if (i.contains("question"))
    h += "<span class=\"q\">" + html_escape(str(i["question"])) + "</span>\n";
  const J& v = i["value"];
  if (is_table(v)) {
    h += html_table(v, "");
  } else if (v.is_array()) {
    h += "<ul>";
    for (const auto& e : v) h += "<li>" + html_escape(str(e)) + "</li>";
    h += "</ul>";
  } else {
    h += html_escape(str(v));
  }
  if (i.contains("hints"))
    for (const auto& x : i["hints"])
      h += "\n<span class=\"q\">hint: " + html_escape(str(x)) + "</span>";
  h += "</dd>\n";
  return h;
}

std::string html_sections(const J& r) {
  std::string h;
  for (const auto& s : r["sections"]) {
    h += "<h2 id=\"s-" + html_escape(str(s["id"])) + "\">" + html_escape(str(s["title"])) +
         "</h2>\n<dl>\n";
    for (const auto& i : s["items"]) h += html_item(i);
    h += "</dl>\n";
  }
  return h;
}

// The timeline (built by the script) and the full tables, collapsed.
std::string html_details(const J& r) {
  std::string h = "<details id=\"d-timeline\"><summary id=\"s-timeline\">Timeline (UTC): " +
                  std::to_string(r["timeline"].size()) +
                  " events, every action of forage among them</summary>\n"
                  "<div id=\"tl-filters\"></div>\n<noscript><p>The timeline needs JavaScript; the "
                  "same events are in the Markdown and JSON forms of this report.</p></noscript>\n"
                  "<ol id=\"timeline\"></ol>\n</details>\n";
  for (const auto& [name, t] : r["tables"].items()) {
    std::string id = "t-" + html_escape(name);
    h += "<details id=\"d-" + id + "\"><summary id=\"h-" + id + "\">Table: " + html_escape(name) +
         " (" + std::to_string(t["rows"].size()) + (t["rows"].size() == 1 ? " row" : " rows") +
         ")</summary>\n" + html_table(t, id) + "</details>\n";
  }
  return h;
}

// Notes, the closure skeleton and the bottom TLP banner.
std::string html_closing(const J& r, const std::string& tlp, const std::string& cls) {
  std::string h;
  if (!r["notes"].empty()) {
    h += "<h2>Notes</h2>\n<ul>\n";
    for (const auto& n : r["notes"]) h += "<li>" + html_escape(str(n)) + "</li>\n";
    h += "</ul>\n";
  }
  h += "<h2 id=\"closure\">" + html_escape(str(r["closure"]["title"])) + " (skeleton)</h2>\n";
  h += "<p class=\"tlp tlp-" + cls + "\">" + tlp + "</p>\n<dl>\n";
  for (const auto& f : r["closure"]["fields"]) {
    std::string val = str(f["value"]);
    h += "<dt>" + html_escape(str(f["label"])) + "</dt><dd" +
         (val == kHuman ? " class=\"human\"" : "") + ">" + html_escape(val) + "</dd>\n";
  }
  h += "</dl>\n<footer class=\"tlp tlp-" + cls + "\" id=\"tlp-bottom\">" + tlp + "</footer>\n";
  return h;
}

}  // namespace

std::string report_html(const J& r) {
  std::string tlp = html_escape(str(r["tlp"]));
  std::string cls = tlp_class(str(r["tlp"]));
  std::string h = html_head(r, tlp, cls);
  h += html_verification(r["verification"]);
  h += html_first_screen(r);
  h += html_sections(r);
  h += "<h2>Timeline and full tables</h2>\n";
  h += html_details(r);
  h += html_closing(r, tlp, cls);
  J data;
  data["timeline"] = r["timeline"];
  h += "<script type=\"application/json\" id=\"report-data\">" + json_for_script(data) +
       "</script>\n";
  h += kHtmlScript;
  h += "</body></html>\n";
  return h;
}

}  // namespace forage::bundle

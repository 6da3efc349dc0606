// The Markdown form of `forage bundle report` (CommonMark with GFM tables). Every value goes
// through md_escape (or md_code): the bundle, and what it says about itself (TLP, case, names), is
// attacker-influenced. Tables show times with their zone, sizes with units, and hashes shortened
// with a mark; the full hashes follow the table as a list, each in a code span.
#include "bundle/report_internal.h"

namespace forage::bundle {

using namespace detail;

namespace {

// n as superscript digits: the mark of a footnote that CommonMark has no syntax for.
std::string superscript(size_t n) {
  static const char* kDigits[] = {"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"};
  std::string digits = std::to_string(n), out;
  for (char c : digits) out += kDigits[c - '0'];
  return out;
}

std::string md_table(const J& t) {
  const J& cols = t["columns"];
  const J formats = t.value("formats", J::array());
  if (t["rows"].empty()) return "(none)\n";
  std::string o = "|";
  for (const auto& c : cols) o += " " + md_escape(str(c)) + " |";
  o += "\n|";
  for (size_t i = 0; i < cols.size(); ++i) o += "---|";
  o += "\n";
  std::vector<std::string> notes;
  for (const auto& row : t["rows"]) {
    o += "|";
    for (size_t i = 0; i < row.size(); ++i) {
      const std::string v = str(row[i]);
      const std::string f = i < formats.size() ? str(formats[i]) : "text";
      if (f == "hash" && short_hash(v) != v) {
        auto it = std::find(notes.begin(), notes.end(), v);
        size_t n = static_cast<size_t>(it - notes.begin()) + 1;
        if (it == notes.end()) notes.push_back(v);
        o += " " + md_escape(short_hash(v)) + superscript(n) + " |";
      } else {
        o += " " + md_escape(shown(v, f), kMaxCell) + " |";
      }
    }
    o += "\n";
  }
  if (t.value("truncated", false))
    o += "\n(only the first " + std::to_string(kMaxRows) + " rows)\n";
  if (!notes.empty()) o += "\n";
  for (size_t i = 0; i < notes.size(); ++i)
    o += "- " + superscript(i + 1) + " " + md_code(notes[i]) + "\n";
  return o;
}

std::string md_verification(const J& v) {
  std::string o = "## Verification\n\n**" + md_escape(str(v["verdict"])) + "**";
  o += " — " + md_escape(str(v["payload_files"])) + " payload files (" +
       md_escape(bytes_text(str(v["payload_bytes"]))) + "), " + md_escape(str(v["actions"])) +
       " actions\n\n";
  for (const auto& p : v["problems"]) o += "- problem: " + md_escape(str(p)) + "\n";
  for (const auto& s : v["signatures"])
    o += "- signature " + md_escape(str(s["kind"])) + ": " +
         (s["valid"].get<bool>() ? "valid" : "NOT valid") +
         (s["trusted"].get<bool>() ? ", trusted" : ", not trusted") + ", signer " +
         md_escape(str(s["signer"])) + "\n";
  return v["problems"].empty() && v["signatures"].empty() ? o : o + "\n";
}

// The first screen: host, targets, indicator hits, SSH-log coverage, then what is missing.
std::string md_first_screen(const J& r) {
  std::string o;
  for (const auto& b : r.value("summary", J::array())) {
    o += "## " + md_escape(str(b["title"])) + "\n\n";
    if (b.contains("text")) o += md_escape(str(b["text"])) + "\n\n";
    if (b.contains("table")) o += md_table(b["table"]) + "\n";
  }
  o += "## Not collected\n\n";
  for (const auto& m : r["not_collected"]) o += "- " + md_escape(str(m)) + "\n";
  if (r["not_collected"].empty()) o += "(nothing missing)\n";
  return o + "\n";
}

// One Guideline item: a list item; a table value follows it as its own block.
std::string md_item(const J& i) {
  const std::string state = str(i["state"]);
  std::string o = "- **" + md_escape(str(i["label"])) + "**";
  if (state == "human") o += " *(to be completed)*";
  if (state == "not collected") o += " *(not collected)*";
  o += ": ";
  if (i.contains("question")) o += "_" + md_escape(str(i["question"])) + "_ ";
  const J& v = i["value"];
  std::string after;
  if (is_table(v)) {
    after = "\n" + md_table(v) + "\n";
    o += "\n";
  } else if (v.is_array()) {
    o += "\n";
    for (const auto& e : v) o += "  - " + md_escape(str(e)) + "\n";
  } else {
    o += md_escape(str(v)) + "\n";
  }
  if (i.contains("hints"))
    for (const auto& h : i["hints"]) o += "  - hint: " + md_escape(str(h)) + "\n";
  return o + after;
}

std::string md_timeline(const J& r) {
  std::string o = "## Timeline (UTC)\n\n| time | kind | what | source |\n|---|---|---|---|\n";
  for (const auto& e : r["timeline"])
    o += "| " + md_escape(utc_text(str(e["utc"]))) + " | " + md_escape(str(e["kind"])) + " | " +
         md_escape(str(e["what"])) + " | " + md_escape(str(e["source"])) + " |\n";
  return o;
}

std::string md_closure(const J& r, const std::string& tlp) {
  std::string o =
      "\n## " + md_escape(str(r["closure"]["title"])) + " (skeleton)\n\n**" + tlp + "**\n\n";
  for (const auto& f : r["closure"]["fields"])
    o += "- **" + md_escape(str(f["label"])) + "**: " + md_escape(str(f["value"])) + "\n";
  return o;
}

}  // namespace

std::string report_markdown(const J& r) {
  const std::string tlp = md_escape(str(r["tlp"]));
  std::string o = "**" + tlp + "**\n\n# Incident report";
  if (!str(r["case"]).empty()) o += " — " + md_escape(str(r["case"]));
  o += "\n\nBundle: " + md_code(str(r["bundle"])) + " — bag " + md_code(str(r["bag"])) + "\n\n";
  o += md_verification(r["verification"]);
  o += md_first_screen(r);
  for (const auto& s : r["sections"]) {
    o += "## " + md_escape(str(s["title"])) + "\n\n";
    for (const auto& i : s["items"]) o += md_item(i);
    o += "\n";
  }
  o += md_timeline(r);
  for (const auto& [name, t] : r["tables"].items())
    o += "\n## Table: " + md_escape(name) + "\n\n" + md_table(t);
  if (!r["notes"].empty()) {
    o += "\n## Notes\n\n";
    for (const auto& n : r["notes"]) o += "- " + md_escape(str(n)) + "\n";
  }
  o += md_closure(r, tlp);
  o += "\n**" + tlp + "**\n";
  return o;
}

}  // namespace forage::bundle

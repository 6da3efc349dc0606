// Shared by the parts of `forage bundle report` (report.cpp: reading and the Guideline sections;
// report_summary.cpp: the first screen, the action summary and values rendered for people;
// report_md.cpp and report_html.cpp: the two renderers). Not a public interface.
//
// Tables in the report document are {"columns": [...], "formats": [...], "rows": [[...]]}: the
// cells keep the bundle's value (ISO 8601 UTC, byte counts, full hashes) so that the JSON form
// stays exact; `formats` says how the renderers show a column to people: "utc" (date, time and
// the zone written), "bytes" (with units), "hash" (shortened; the full value on hover in HTML, in
// a footnote in Markdown), "seconds" (a duration), or "text".
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bundle/report.h"
#include "common/records.h"

namespace forage::bundle::detail {

using J = ReportJson;

inline constexpr size_t kMaxRows = 5000;
inline constexpr size_t kMaxCell = 400;
inline constexpr const char* kHuman = "TO BE COMPLETED BY A HUMAN";
inline constexpr const char* kNotCollected = "not collected";

std::string str(const J& j);
const J& at(const J& j, std::initializer_list<const char*> keys);
std::string cell(const J& j);
// A value as text for people, never as JSON: lists joined with ", ", objects as
// "key: value; ...", true/false as yes/no; one line, at most `max` bytes.
std::string flat(const J& j, size_t max = kMaxCell);

J table(std::vector<std::string> columns, std::vector<std::string> formats = {});
void add_row(J& t, std::vector<std::string> cells);
// How a column named `key` is shown: "hash", "bytes", "utc" or "text" (by its name).
std::string column_format(std::string_view key);
// A Guideline value for people: a string stays a string, a list of strings a list, a list of
// records a table (one column per key, in order of first appearance), a record a two-column
// table (field, value). Nested values are flattened with flat().
J people_value(const J& v);
bool is_table(const J& v);
// The table without the columns that are empty in every row (fields an older bundle lacks).
J without_empty_columns(const J& t);

// The members the report uses, parsed, and what it derives from them before any section.
struct Inputs {
  const BundleForReport& b;
  J incident, env, procs, sockets, utmp, artifacts;
  std::vector<J> actions;
  std::vector<std::pair<std::string, J>> findings;  // (scan file, finding); summaries left out
  std::map<std::string, std::string> bag_info;
  std::vector<std::string> problems;  // members or lines not used, and why
  // incident.json's "processes" when it is a list (entries of the wrong shape left out, in
  // problems); nullopt when the collection recorded none.
  std::optional<std::vector<records::Target>> targets;
  std::string tlp, case_id;
  long double boot_ns = 0;  // for process start times given in seconds after boot
  std::string collected_utc;
  std::string year;  // of the collection: syslog lines carry none

  explicit Inputs(const BundleForReport& bundle) : b(bundle) {}
  const J& inc(std::initializer_list<const char*> keys) const { return at(incident, keys); }
};

// The first screen (report_summary.cpp): host, targets, indicator hits, SSH-log coverage.
J first_screen(const Inputs& in);
// The action log, one row per step (report_summary.cpp).
J action_summary(const Inputs& in);
// The grid identities of incident.json as a table (report_summary.cpp).
J grid_identity_table(const Inputs& in);
// OS, kernel, uptime and boot time from meta/environment.json (report_summary.cpp).
J host_facts(const Inputs& in);

// Rendering helpers (report_summary.cpp).
std::string utc_text(std::string_view iso);    // "2026-11-23 10:00:00 UTC"; other text as it is
std::string bytes_text(std::string_view n);    // "1.5 MiB (1572864 bytes)"; other text as it is
std::string seconds_text(std::string_view s);  // "2.4 s", "3 min 05 s", "4 d 02 h"
std::string short_hash(std::string_view h);    // the first 12 characters and "…" when longer
// The cell as shown (utc, bytes, seconds); hashes and text unchanged.
std::string shown(const std::string& value, const std::string& format);
std::string tlp_class(const std::string& tlp);

}  // namespace forage::bundle::detail

// CSV with a header (RFC 4180): a value column, optionally type, comment, TLP and MISP's to_ids
// columns, named in any of the ways CSIRTs and MISP exports name them.
#include <array>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/strings.h"
#include "ioc/canonical.h"
#include "ioc/reader.h"
#include "ioc/tlp.h"
#include "ioc/typed_value.h"

namespace forage::ioc {
namespace {

constexpr std::array<char, 3> kDelimiters = {',', ';', '\t'};

// Header names, normalised (lower case, '_' and '-' as ' '). For the type column the first
// match wins: MISP exports have both "type" (ip-dst) and "category" (Network activity).
constexpr std::array<std::string_view, 13> kValueNames = {
    "value",           "values", "indicator", "indicators",      "ioc",       "iocs",
    "observable",      "data",   "attribute", "indicator value", "ioc value", "attribute value",
    "observable value"};
constexpr std::array<std::string_view, 8> kTypeNames = {
    "type",      "ioc type", "indicator type", "attribute type", "observable type",
    "data type", "kind",     "category"};
constexpr std::array<std::string_view, 7> kCommentNames = {
    "comment", "comments", "description", "context", "note", "notes", "info"};

struct Columns {
  char delimiter = ',';
  size_t count = 0;  // cells in the header
  int value = -1;
  int type = -1;
  int comment = -1;
  int tlp = -1;
  int to_ids = -1;
};

std::string normalise(std::string_view cell) {
  cell = trim(cell);
  if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"')
    cell = trim(cell.substr(1, cell.size() - 2));
  std::string out;
  bool sep = false;
  for (char c : cell) {
    if (c == ' ' || c == '_' || c == '-') {
      sep = true;
      continue;
    }
    if (sep && !out.empty()) out += ' ';
    sep = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

template <size_t N>
int rank_in(const std::array<std::string_view, N>& names, const std::string& cell) {
  for (size_t i = 0; i < N; ++i)
    if (names[i] == cell) return static_cast<int>(i);
  return -1;
}

// Header cells split on one delimiter (a header has no embedded newlines).
std::vector<std::string_view> split_header(std::string_view line, char d) {
  std::vector<std::string_view> cells;
  size_t start = 0;
  bool quoted = false;
  for (size_t i = 0; i <= line.size(); ++i) {
    if (i < line.size() && line[i] == '"') quoted = !quoted;
    if (i == line.size() || (line[i] == d && !quoted)) {
      cells.push_back(line.substr(start, i - start));
      start = i + 1;
    }
  }
  return cells;
}

std::optional<Columns> parse_header(std::string_view line) {
  std::optional<Columns> best;
  for (char d : kDelimiters) {
    if (line.find(d) == std::string_view::npos) continue;
    auto cells = split_header(line, d);
    if (cells.size() < 2) continue;
    Columns c;
    c.delimiter = d;
    c.count = cells.size();
    int value_rank = 1000;  // the best (lowest) rank of a name seen so far
    int type_rank = 1000;
    int comment_rank = 1000;
    for (size_t i = 0; i < cells.size(); ++i) {
      std::string n = normalise(cells[i]);
      int col = static_cast<int>(i);
      if (int r = rank_in(kValueNames, n); r >= 0 && r < value_rank) value_rank = r, c.value = col;
      if (int r = rank_in(kTypeNames, n); r >= 0 && r < type_rank) type_rank = r, c.type = col;
      if (int r = rank_in(kCommentNames, n); r >= 0 && r < comment_rank)
        comment_rank = r, c.comment = col;
      if (n == "tlp") c.tlp = col;
      if (n == "to ids") c.to_ids = col;
    }
    if (c.value < 0) continue;
    if (!best || c.count > best->count) best = c;
  }
  return best;
}

// The header line: the first non-empty line that is not a '#' comment (feeds often start with
// "# TLP:AMBER" or a generator line). Returns its offset and 1-based line number.
struct HeaderLine {
  std::string_view text;
  size_t offset = 0;
  size_t line = 0;
};
std::optional<HeaderLine> header_line(std::string_view text) {
  size_t pos = 0;
  size_t line = 1;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    auto l = text.substr(pos, end - pos);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    auto t = trim(l);
    if (!t.empty() && t[0] != '#') return HeaderLine{l, pos, line};
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
    ++line;
  }
  return std::nullopt;
}

struct Record {
  std::vector<std::string> fields;
  size_t line = 0;       // 1-based line where the record starts
  std::string_view raw;  // the record's bytes, for a context when there is no comment
  bool unterminated = false;
};

// RFC 4180 records: quoted fields with "" for a quote, delimiters and line breaks inside
// quotes, CRLF or LF line ends. Lenient where producers are sloppy: a quote inside an unquoted
// field, or text after a closing quote, is kept as text.
class Scanner {
 public:
  Scanner(std::string_view text, char delimiter, size_t pos, size_t line)
      : s_(text), d_(delimiter), pos_(pos), line_(line) {}

  bool next(Record& r) {
    if (pos_ >= s_.size()) return false;
    r = Record{};
    r.line = line_;
    size_t start = pos_;
    r.fields.emplace_back();
    bool field_start = true;
    bool quoted = false;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (quoted) {
        if (c == '"') {
          if (pos_ + 1 < s_.size() && s_[pos_ + 1] == '"') {
            r.fields.back() += '"';
            pos_ += 2;
          } else {
            quoted = false;
            ++pos_;
          }
          continue;
        }
        if (c == '\n') ++line_;
        r.fields.back() += c;
        ++pos_;
        continue;
      }
      if (c == d_) {
        r.fields.emplace_back();
        field_start = true;
        ++pos_;
        continue;
      }
      if (c == '\n' || c == '\r') {
        bool crlf = c == '\r' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '\n';
        pos_ += crlf ? 2 : 1;
        r.raw = s_.substr(start, pos_ - start);
        // Lines are counted by '\n' everywhere in forage; a lone CR ends a record only.
        if (c == '\n' || crlf) ++line_;
        return true;
      }
      if (c == '"' && field_start && trim(r.fields.back()).empty()) {
        r.fields.back().clear();
        quoted = true;
        ++pos_;
        continue;
      }
      if (c != ' ' && c != '\t') field_start = false;  // spaces before an opening quote
      r.fields.back() += c;
      ++pos_;
    }
    r.raw = s_.substr(start, pos_ - start);
    if (quoted) {
      // Resume on the line after the record's first line: only that record is lost. The rest
      // can hold no other quote left open to the end (its quotes all paired up in the scan that
      // just failed), so this costs at most a second pass.
      r.unterminated = true;
      size_t nl = s_.find('\n', start);
      pos_ = nl == std::string_view::npos ? s_.size() : nl + 1;
      line_ = r.line + 1;
    }
    return true;
  }

 private:
  std::string_view s_;
  char d_;
  size_t pos_;
  size_t line_;
};

bool falsy(std::string_view cell) {
  auto v = to_lower(trim(cell));
  return v == "0" || v == "false" || v == "no" || v == "n";
}

}  // namespace

bool looks_like_csv(std::string_view text) {
  auto h = header_line(text);
  return h && parse_header(h->text).has_value();
}

void read_csv(std::string_view text, const Source& src, const ReadOptions& opts, IocSet& out) {
  auto h = header_line(text);
  std::optional<Columns> cols;
  if (h) cols = parse_header(h->text);
  if (!cols) {
    input_problem(opts, out,
                  src.display() +
                      ": not a CSV with a header naming a value column "
                      "(value, indicator, ioc, ...)");
    return;
  }
  auto at = [&](size_t line) {
    Source s = src;
    s.line = line;
    return s;
  };
  auto header_cells = split_header(h->text, cols->delimiter);
  auto cell_of = [&](const std::vector<std::string>& f, int col) -> std::string_view {
    return col >= 0 && static_cast<size_t>(col) < f.size() ? std::string_view(f[col])
                                                           : std::string_view();
  };

  size_t skipped_ids = 0;
  size_t unrecognised = 0;
  Scanner scan(text, cols->delimiter, h->offset, h->line);
  Record rec;
  scan.next(rec);  // the header
  while (scan.next(rec)) {
    if (rec.unterminated) {
      input_problem(opts, out, at(rec.line).display() + ": unterminated quoted field");
      continue;
    }
    bool blank = true;
    for (const auto& f : rec.fields) blank = blank && trim(f).empty();
    if (blank) continue;
    if (static_cast<size_t>(cols->value) >= rec.fields.size()) {
      input_problem(opts, out,
                    at(rec.line).display() + ": row has " + std::to_string(rec.fields.size()) +
                        " field(s), no value in column " + std::to_string(cols->value + 1));
      continue;
    }
    std::string_view value = rec.fields[cols->value];
    std::string_view type_cell = cell_of(rec.fields, cols->type);
    // A header repeated further down (concatenated exports).
    if (normalise(value) == normalise(header_cells[cols->value])) continue;
    if (cols->to_ids >= 0 && falsy(cell_of(rec.fields, cols->to_ids))) {
      ++skipped_ids;
      continue;
    }
    if (trim(value).empty()) continue;

    std::vector<Classified> found;
    auto rule = trim(type_cell).empty() ? std::nullopt : type_rule(type_cell);
    if (rule) {
      if (rule->rule == ValueRule::kReference) continue;
      auto typed = read_typed(*rule, value);
      if (!typed.problem.empty()) {
        input_problem(opts, out,
                      at(rec.line).display() + ": " + typed.problem + " (type '" +
                          printable(trim(type_cell), 40) + "')");
        continue;
      }
      found = std::move(typed.values);
    } else if (auto c = classify(value)) {
      found.push_back(std::move(*c));
    } else {
      ++unrecognised;
      continue;
    }

    std::string_view comment = trim(cell_of(rec.fields, cols->comment));
    std::string context = make_context(comment.empty() ? rec.raw : comment);
    std::string tlp = normalize_tlp(cell_of(rec.fields, cols->tlp)).value_or("");
    out.tlp = stricter_tlp(out.tlp, tlp);  // the set is as strict as anything in it
    for (auto& c : found) {
      Indicator ind;
      ind.type = c.type;
      ind.value = std::move(c.value);
      ind.source = at(rec.line);
      ind.context = context;
      ind.tlp = tlp;
      out.add(std::move(ind));
    }
  }
  if (skipped_ids)
    out.notes.push_back(src.display() + ": " + std::to_string(skipped_ids) +
                        " CSV row(s) with to_ids false skipped");
  if (unrecognised)
    out.notes.push_back(src.display() + ": " + std::to_string(unrecognised) +
                        " CSV row(s) without a recognisable indicator skipped");
}

}  // namespace forage::ioc

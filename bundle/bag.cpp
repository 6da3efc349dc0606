#include "bundle/bag.h"

#include <cctype>
#include <cstdio>

#include "common/error.h"
#include "common/strings.h"
#include "common/time.h"
#include "common/tlp.h"

namespace forage::bundle {

bool reserved_tag_name(std::string_view rel) {
  return rel == kBagitTxt || rel == kBagInfo || rel == kManifest || rel == kTagManifest ||
         rel == kSignatureCms || rel == kSignatureRaw || rel == kSignatureKey || rel == kActions ||
         rel == kActionsHead || rel == kEnvironment || rel.substr(0, 9) == "manifest-" ||
         rel.substr(0, 12) == "tagmanifest-" || rel == "fetch.txt";
}

bool unlisted_tag_name(std::string_view rel) {
  return rel == kTagManifest || rel == kSignatureCms || rel == kSignatureRaw ||
         rel == kSignatureKey;
}

std::string sanitize_component(std::string_view s, std::string_view fallback, size_t max) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) break;
    bool ok =
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '+';
    out += (ok && static_cast<unsigned char>(c) < 0x80) ? c : '_';
  }
  // No leading dot and no ".." anywhere, so the name never reads like a path step.
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i] == '.' && (i == 0 || out[i - 1] == '.')) out[i] = '_';
  return out.empty() ? std::string(fallback) : out;
}

std::string top_directory(std::string_view case_id, std::string_view host, std::time_t utc) {
  return sanitize_component(case_id, "nocase") + "_" + sanitize_component(host, "unknown-host") +
         "_" + utc_compact(utc);
}

std::string checked_tlp(std::string_view label) {
  if (auto t = normalize_tlp(label)) return *t;
  throw Error("--tlp: unknown label '" + printable(label) +
              "' (CLEAR, WHITE, GREEN, AMBER, AMBER+STRICT, RED)");
}

std::string unsafe_member_name(std::string_view name) {
  if (name.empty()) return "empty name";
  if (name.find('\0') != std::string_view::npos) return "NUL byte in the name";
  if (name[0] == '/') return "absolute name";
  std::string_view rest = name;
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  size_t pos = 0;
  while (pos <= rest.size()) {
    size_t slash = rest.find('/', pos);
    if (slash == std::string_view::npos) slash = rest.size();
    std::string_view comp = rest.substr(pos, slash - pos);
    if (comp == "..") return "'..' component (would escape the directory)";
    if (comp == ".") return "'.' component";
    if (comp.empty()) return "empty component";
    pos = slash + 1;
  }
  return "";
}

std::string bag_safe_path(std::string_view rel) {
  std::string why = unsafe_member_name(rel);
  if (!why.empty()) throw Error("bag path '" + printable(rel) + "': " + why);
  if (rel.back() == '/') throw Error("bag path '" + printable(rel) + "': ends with '/'");
  std::string out(rel);
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '\\' || c == '%') c = '_';
  }
  return out;
}

std::string manifest_line(std::string_view sha256, std::string_view path) {
  std::string l(sha256);
  l += "  ";
  l += path;
  l += '\n';
  return l;
}

namespace {
bool is_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      std::string code = to_lower(s.substr(i + 1, 2));
      if (code == "0a") {
        out += '\n';
        i += 2;
        continue;
      }
      if (code == "0d") {
        out += '\r';
        i += 2;
        continue;
      }
      if (code == "25") {
        out += '%';
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}
}  // namespace

void for_each_manifest_entry(std::string_view text, std::string_view file,
                             std::vector<std::string>& problems,
                             const std::function<void(ManifestEntry&&)>& entry) {
  size_t lineno = 0, pos = 0, bad = 0;
  auto malformed = [&](size_t line, const char* why) {
    if (++bad <= kMaxManifestProblems)
      problems.push_back(std::string(file) + ": line " + std::to_string(line) + ": " + why);
  };
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.size() < 66 || !is_hex64(line.substr(0, 64)) ||
        (line[64] != ' ' && line[64] != '\t')) {
      malformed(lineno, "not '<sha256> <path>'");
      continue;
    }
    size_t p = 64;
    while (p < line.size() && (line[p] == ' ' || line[p] == '\t')) ++p;
    if (p == 65 && p < line.size() && line[p] == '*')
      ++p;  // sha256sum binary mode: "<hash> *<path>"
    std::string path = percent_decode(line.substr(p));
    if (path.empty()) {
      malformed(lineno, "empty path");
      continue;
    }
    entry({to_lower(line.substr(0, 64)), std::move(path), lineno});
  }
  if (bad > kMaxManifestProblems)
    problems.push_back(std::string(file) + ": " + std::to_string(bad - kMaxManifestProblems) +
                       " more malformed lines");
}

std::vector<ManifestEntry> parse_manifest(std::string_view text, std::string_view file,
                                          std::vector<std::string>& problems) {
  std::vector<ManifestEntry> out;
  for_each_manifest_entry(text, file, problems,
                          [&](ManifestEntry&& e) { out.push_back(std::move(e)); });
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_bag_info(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (std::string_view line : split_lines(text)) {
    if (line.empty()) continue;
    if ((line[0] == ' ' || line[0] == '\t') && !out.empty()) {
      out.back().second += " " + std::string(trim(line));
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    out.emplace_back(std::string(trim(line.substr(0, colon))),
                     std::string(trim(line.substr(colon + 1))));
  }
  return out;
}

}  // namespace forage::bundle

// JSON inputs: STIX 2.1 bundles, MISP events, forage's own output (writers.cpp to_json), and any
// other JSON, whose strings are read as free text. Every indicator's source is a JSON pointer
// (RFC 6901) into the document: "/objects/3/pattern", "/response/0/Event/Attribute/5/value".
#include <array>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/strings.h"
#include "ioc/reader.h"
#include "ioc/stix_pattern.h"
#include "ioc/tlp.h"
#include "ioc/typed_value.h"

namespace forage::ioc {
namespace {

using json = nlohmann::json;

// Deeper documents are refused before parsing: nothing legitimate nests this far, and every
// walk over the tree below is then bounded.
constexpr int kMaxJsonDepth = 256;
// Notes about single values are capped so a hostile input cannot flood the output.
constexpr size_t kMaxValueNotes = 50;
constexpr size_t kMaxUnknownTypes = 20;

std::string pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}
std::string ptr(const std::string& base, std::string_view key) {
  return base + "/" + pointer_token(key);
}
std::string ptr(const std::string& base, size_t index) {
  return base + "/" + std::to_string(index);
}

struct LineCol {
  size_t line = 1;
  size_t column = 1;
};
LineCol line_col(std::string_view data, size_t offset) {
  LineCol lc;
  offset = std::min(offset, data.size());
  for (size_t i = 0; i < offset; ++i) {
    if (data[i] == '\n') {
      ++lc.line;
      lc.column = 1;
    } else {
      ++lc.column;
    }
  }
  return lc;
}

// The byte offset where nesting first exceeds kMaxJsonDepth, or npos.
size_t too_deep(std::string_view data) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < data.size(); ++i) {
    char c = data[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string_view::npos;
}

// "syntax error while parsing object - unexpected end of input; expected string literal" out of
// nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 9: <reason>".
std::string parse_reason(const std::string& what) {
  auto col = what.find("column ");
  if (col != std::string::npos) {
    auto sep = what.find(": ", col);
    if (sep != std::string::npos) return what.substr(sep + 2);
  }
  auto bracket = what.find("] ");
  return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

const json* member(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}
std::string string_member(const json& j, const char* key) {
  const json* m = member(j, key);
  return m && m->is_string() ? m->get<std::string>() : std::string();
}

// Everything a reader needs to record indicators and problems against one input.
class Reader {
 public:
  Reader(const Source& src, const ReadOptions& opts, IocSet& out)
      : src_(src), opts_(opts), out_(out) {}

  Source at(const std::string& pointer) const {
    Source s = src_;
    s.json_path = pointer;
    return s;
  }
  std::string where(const std::string& pointer) const { return at(pointer).display(); }

  void problem(const std::string& pointer, const std::string& reason) {
    input_problem(opts_, out_, where(pointer) + ": " + reason);
  }
  void note(const std::string& message) { out_.notes.push_back(message); }
  void value_note(const std::string& pointer, const std::string& reason) {
    if (value_notes_++ < kMaxValueNotes) note(where(pointer) + ": " + reason + " (skipped)");
  }
  void finish() {
    if (value_notes_ > kMaxValueNotes)
      note(src_.display() + ": " + std::to_string(value_notes_ - kMaxValueNotes) +
           " more values skipped as invalid");
  }

  void add(Type t, std::string value, Source source, std::string_view context,
           const std::string& tlp) {
    Indicator ind;
    ind.type = t;
    ind.value = std::move(value);
    ind.source = std::move(source);
    ind.context = make_context(context);
    ind.tlp = tlp;
    out_.add(std::move(ind));
  }
  void add(Type t, std::string value, const std::string& pointer, std::string_view context,
           const std::string& tlp) {
    add(t, std::move(value), at(pointer), context, tlp);
  }

  IocSet& out() { return out_; }
  const Source& src() const { return src_; }

 private:
  const Source& src_;
  const ReadOptions& opts_;
  IocSet& out_;
  size_t value_notes_ = 0;
};

// ---------------------------------------------------------------------------------------------
// forage's own output (writers.cpp to_json)

bool is_forage(const json& j) {
  return j.is_object() && string_member(j, "format").rfind("forage-iocs/", 0) == 0;
}

void read_forage(const json& j, Reader& r) {
  std::string format = string_member(j, "format");
  if (format != "forage-iocs/1") {
    r.problem("/format", "unsupported forage indicator format '" + printable(format) + "'");
    return;
  }
  std::string case_tag = string_member(j, "case");
  if (!case_tag.empty() && r.out().case_tag.empty()) r.out().case_tag = case_tag;
  if (auto t = normalize_tlp(string_member(j, "tlp"))) r.out().tlp = stricter_tlp(r.out().tlp, *t);
  const json* list = member(j, "indicators");
  if (!list) return;
  if (!list->is_array()) {
    r.problem("/indicators", "expected an array");
    return;
  }
  for (size_t i = 0; i < list->size(); ++i) {
    const json& e = (*list)[i];
    std::string p = ptr("/indicators", i);
    if (!e.is_object()) {
      r.problem(p, "expected an indicator object");
      continue;
    }
    const json* type = member(e, "type");
    const json* value = member(e, "value");
    if (!type || !type->is_string() || !value || !value->is_string()) {
      r.problem(p, "an indicator needs a string \"type\" and \"value\"");
      continue;
    }
    auto t = type_from_name(type->get<std::string>());
    if (!t) {
      r.problem(p + "/type",
                "unknown indicator type '" + printable(type->get<std::string>()) + "'");
      continue;
    }
    auto v = canonical_typed(*t, value->get<std::string>());
    if (!v) {
      r.problem(p + "/value", "'" + printable(value->get<std::string>()) + "' is not a valid " +
                                  std::string(type_name(*t)));
      continue;
    }
    // The indicator keeps the source it was first read from; without one it points here.
    Source s = r.at(p);
    if (const json* so = member(e, "source"); so && so->is_object()) {
      s = Source{};
      s.file = string_member(*so, "file");
      s.part = string_member(*so, "part");
      s.json_path = string_member(*so, "path");
      if (const json* line = member(*so, "line"); line && line->is_number_unsigned())
        s.line = line->get<size_t>();
      if (s.file.empty()) s = r.at(p);
    }
    std::string tlp = normalize_tlp(string_member(e, "tlp")).value_or("");
    r.add(*t, std::move(*v), std::move(s), string_member(e, "context"), tlp);
  }
}

// ---------------------------------------------------------------------------------------------
// MISP (https://www.misp-project.org/openapi/ "Event" and its "Attribute"/"Object")

bool has_event(const json& j) {
  return member(j, "Event") != nullptr;
}

// A list of wrapped events; a malformed element is reported while reading, not a reason to read
// the whole document as something else.
bool any_event(const json& list) {
  for (const auto& e : list)
    if (has_event(e)) return true;
  return false;
}

bool is_misp(const json& j) {
  if (j.is_array()) return any_event(j);
  if (!j.is_object()) return false;
  if (member(j, "Event")) return true;
  if (const json* r = member(j, "response")) return r->is_array() ? any_event(*r) : has_event(*r);
  const json* attrs = member(j, "Attribute");
  return member(j, "info") && attrs && attrs->is_array();
}

// The strictest TLP among MISP tags: [{"name": "tlp:amber"}] or [{"Tag": {"name": ...}}].
std::string tags_tlp(const json* tags) {
  std::string best;
  if (!tags || !tags->is_array()) return best;
  for (const auto& t : *tags) {
    const json* tag = member(t, "Tag");
    const json& obj = tag && tag->is_object() ? *tag : t;
    if (auto l = normalize_tlp(string_member(obj, "name"))) best = stricter_tlp(best, *l);
  }
  return best;
}

struct MispEvent {
  std::string info;
  std::string tlp;
};

// to_ids: true, 1, "1", "true". An attribute without it gets MISP's default for its type, which
// is "for IDS" for every type forage reads (describeTypes.json; PyMISP applies it the same way).
std::optional<bool> to_ids(const json& a) {
  const json* t = member(a, "to_ids");
  if (!t || t->is_null()) return std::nullopt;
  if (t->is_boolean()) return t->get<bool>();
  if (t->is_number_integer()) return t->get<long long>() != 0;
  if (t->is_string()) {
    auto s = to_lower(t->get<std::string>());
    return s == "1" || s == "true";
  }
  return false;
}

// What MISP models as objects rather than attribute types.
std::optional<TypeRule> object_rule(std::string_view object, std::string_view relation) {
  struct Entry {
    std::string_view object, relation;
    Type type;
  };
  static constexpr std::array<Entry, 5> kEntries{{
      {"user-account", "username", Type::kUsername},
      {"x509", "subject", Type::kX509Dn},
      {"x509", "issuer", Type::kX509Dn},
      {"file", "path", Type::kFilepath},
      {"file", "fullpath", Type::kFilepath},
  }};
  for (const auto& e : kEntries)
    if (e.object == object && e.relation == relation) return TypeRule{ValueRule::kExact, e.type};
  return std::nullopt;
}

class MispReader {
 public:
  explicit MispReader(Reader& r) : r_(r) {}

  void read(const json& j) {
    if (j.is_array()) {
      for (size_t i = 0; i < j.size(); ++i) wrapped(j[i], ptr("", i));
    } else if (const json* resp = member(j, "response")) {
      if (resp->is_array()) {
        for (size_t i = 0; i < resp->size(); ++i) wrapped((*resp)[i], ptr("/response", i));
      } else {
        wrapped(*resp, "/response");
      }
    } else if (member(j, "Event")) {
      wrapped(j, "");
    } else {
      event(j, "");
    }
    if (skipped_ids_)
      r_.note(r_.src().display() + ": " + std::to_string(skipped_ids_) +
              " MISP attribute(s) with to_ids false skipped");
    if (!unknown_.empty()) {
      std::string list;
      for (const auto& [type, n] : unknown_)
        list += (list.empty() ? "" : ", ") + printable(type, 40) + " (" + std::to_string(n) + ")";
      r_.note(r_.src().display() +
              ": MISP attribute types that are no indicator here skipped: " + list);
    }
  }

 private:
  void wrapped(const json& w, const std::string& p) {
    const json* e = member(w, "Event");
    if (!e) {
      r_.problem(p, "expected an object with an \"Event\"");
      return;
    }
    event(*e, p + "/Event");
  }

  void event(const json& ev, const std::string& p) {
    if (!ev.is_object()) {
      r_.problem(p, "a MISP event must be an object");
      return;
    }
    MispEvent e;
    e.info = string_member(ev, "info");
    e.tlp = stricter_tlp(tags_tlp(member(ev, "Tag")), tags_tlp(member(ev, "EventTag")));
    r_.out().tlp = stricter_tlp(r_.out().tlp, e.tlp);
    if (r_.out().case_tag.empty())
      if (auto tag = find_case_tag(e.info)) r_.out().case_tag = *tag;

    if (const json* attrs = member(ev, "Attribute")) {
      if (!attrs->is_array()) {
        r_.problem(p + "/Attribute", "expected an array of attributes");
      } else {
        for (size_t i = 0; i < attrs->size(); ++i)
          attribute((*attrs)[i], ptr(p + "/Attribute", i), e, "", "");
      }
    }
    if (const json* objects = member(ev, "Object")) {
      if (!objects->is_array()) {
        r_.problem(p + "/Object", "expected an array of objects");
        return;
      }
      for (size_t k = 0; k < objects->size(); ++k) {
        const json& o = (*objects)[k];
        std::string op = ptr(p + "/Object", k);
        if (!o.is_object()) {
          r_.problem(op, "a MISP object must be an object");
          continue;
        }
        const json* attrs = member(o, "Attribute");
        if (!attrs) continue;
        if (!attrs->is_array()) {
          r_.problem(op + "/Attribute", "expected an array of attributes");
          continue;
        }
        std::string name = string_member(o, "name");
        std::string comment = string_member(o, "comment");
        for (size_t i = 0; i < attrs->size(); ++i)
          attribute((*attrs)[i], ptr(op + "/Attribute", i), e, name, comment);
      }
    }
  }

  void attribute(const json& a, const std::string& p, const MispEvent& e, const std::string& object,
                 const std::string& object_comment) {
    if (!a.is_object()) {
      r_.problem(p, "a MISP attribute must be an object");
      return;
    }
    // An attribute's own TLP tag overrides the event's; the set is as strict as anything in it.
    std::string tlp = stricter_tlp(tags_tlp(member(a, "Tag")), tags_tlp(member(a, "AttributeTag")));
    r_.out().tlp = stricter_tlp(r_.out().tlp, tlp);
    const json* type = member(a, "type");
    const json* value = member(a, "value");
    if (!type || !type->is_string()) {
      r_.problem(p + "/type", "a MISP attribute needs a string \"type\"");
      return;
    }
    if (!value || !value->is_string()) {
      r_.problem(p + "/value", "a MISP attribute value must be a string");
      return;
    }
    if (const json* d = member(a, "deleted"); d && d->is_boolean() && d->get<bool>()) return;
    if (!to_ids(a).value_or(true)) {
      ++skipped_ids_;
      return;
    }
    std::string t = type->get<std::string>();
    std::optional<TypeRule> rule;
    if (!object.empty()) rule = object_rule(object, string_member(a, "object_relation"));
    if (!rule) rule = type_rule(t);
    if (!rule) {
      // Counted by type for the note; a hostile event with endless distinct types is capped.
      if (unknown_.size() < kMaxUnknownTypes || unknown_.count(t))
        ++unknown_[t];
      else
        ++unknown_["(other types)"];
      return;
    }
    if (rule->rule == ValueRule::kReference) return;  // a link to a report, not an indicator
    auto typed = read_typed(*rule, value->get<std::string>());
    if (!typed.problem.empty()) {
      r_.value_note(p + "/value", "MISP " + printable(t, 40) + ": " + typed.problem);
      return;
    }
    if (tlp.empty()) tlp = e.tlp;
    std::string context = string_member(a, "comment");
    if (context.empty()) context = object_comment;
    if (context.empty()) context = e.info;
    for (auto& c : typed.values) r_.add(c.type, std::move(c.value), p + "/value", context, tlp);
  }

  Reader& r_;
  size_t skipped_ids_ = 0;
  std::map<std::string, size_t> unknown_;
};

// ---------------------------------------------------------------------------------------------
// STIX 2.1 (OASIS STIX Version 2.1, sections 4 indicator, 6 SCOs, 7.2 data markings)

bool is_stix_object(const json& o) {
  if (!o.is_object()) return false;
  std::string type = string_member(o, "type");
  if (type.empty()) return false;
  if (member(o, "spec_version")) return true;
  return string_member(o, "id").rfind(type + "--", 0) == 0;
}

bool is_stix(const json& j) {
  if (j.is_array()) {
    if (j.empty()) return false;
    for (const auto& o : j)
      if (!is_stix_object(o)) return false;
    return true;
  }
  return string_member(j, "type") == "bundle" || is_stix_object(j);
}

// The TLP marking definitions of STIX 2.1 (7.2.1.4) and of the TLP 2.0 extension, by id: bundles
// usually refer to them without including the definitions.
constexpr std::array<std::pair<std::string_view, std::string_view>, 9> kTlpMarkings{{
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "TLP:CLEAR"},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "TLP:GREEN"},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "TLP:AMBER"},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "TLP:RED"},
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "TLP:CLEAR"},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "TLP:GREEN"},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "TLP:AMBER"},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "TLP:AMBER+STRICT"},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED"},
}};

// The cyber-observable objects that are indicators by themselves, and the properties that hold
// the value (read through the same path rules as patterns).
constexpr std::array<std::string_view, 9> kScoTypes = {
    "ipv4-addr", "ipv6-addr",    "domain-name",      "url",      "email-addr",
    "file",      "user-account", "x509-certificate", "directory"};
constexpr std::array<std::string_view, 7> kScoProperties = {
    "value", "name", "path", "user_id", "account_login", "subject", "issuer"};

class StixReader {
 public:
  explicit StixReader(Reader& r) : r_(r) {}

  void read(const json& j) {
    const json* objects = &j;
    std::string base;
    json single;
    if (j.is_object() && string_member(j, "type") == "bundle") {
      objects = member(j, "objects");
      base = "/objects";
      if (!objects) return;  // an empty bundle
      if (!objects->is_array()) {
        r_.problem(base, "expected an array of STIX objects");
        return;
      }
    } else if (j.is_object()) {
      single = json::array({j});
      objects = &single;
    }
    if (!objects->is_array()) {
      r_.problem("", "not a STIX 2.1 bundle or object");
      return;
    }
    auto at = [&](size_t i) { return objects == &single ? std::string() : ptr(base, i); };

    for (const auto& [id, label] : kTlpMarkings) markings_[std::string(id)] = std::string(label);
    for (const auto& o : *objects)
      if (string_member(o, "type") == "marking-definition") marking_definition(o);

    // Indicators first: when an observable repeats a pattern's value (MISP exports both), the
    // indicator's name and description are the better context.
    for (size_t i = 0; i < objects->size(); ++i) {
      const json& o = (*objects)[i];
      std::string p = at(i);
      if (!o.is_object()) {
        r_.problem(p, "a STIX object must be a JSON object");
        continue;
      }
      r_.out().tlp = stricter_tlp(r_.out().tlp, object_tlp(o, ""));
      if (string_member(o, "type") == "indicator") indicator(o, p);
    }
    // Observables are indicators too: some bundles name their C2 addresses only this way (the
    // OASIS infrastructure example). The price: MISP exports to_ids=false attributes as
    // observed-data as well, so its STIX translation can give more than the event's to_ids set.
    for (size_t i = 0; i < objects->size(); ++i) {
      const json& o = (*objects)[i];
      std::string p = at(i);
      if (!o.is_object()) continue;
      std::string type = string_member(o, "type");
      std::string tlp = object_tlp(o, "");
      if (type == "observed-data") {
        // STIX 2.0 embeds its observables in "objects": {"0": {...}}.
        if (const json* embedded = member(o, "objects"); embedded && embedded->is_object())
          for (const auto& [key, sco] : embedded->items())
            if (sco.is_object()) observable(sco, ptr(p + "/objects", key), tlp);
      } else if (is_sco(type)) {
        observable(o, p, tlp);
      }
    }
  }

 private:
  static bool is_sco(std::string_view type) {
    for (auto t : kScoTypes)
      if (t == type) return true;
    return false;
  }

  void marking_definition(const json& o) {
    std::string id = string_member(o, "id");
    if (id.empty()) return;
    std::optional<std::string> label;
    if (string_member(o, "definition_type") == "tlp")
      if (const json* d = member(o, "definition")) label = normalize_tlp(string_member(*d, "tlp"));
    if (!label)
      if (const json* ext = member(o, "extensions"); ext && ext->is_object())
        for (const auto& [key, e] : ext->items())
          if (auto l = normalize_tlp(string_member(e, "tlp_2_0"))) label = l;
    if (!label) {
      std::string name = string_member(o, "name");
      if (istarts_with(name, "tlp")) label = normalize_tlp(name);
    }
    if (label) markings_[id] = *label;
  }

  // The strictest TLP of an object's markings; with `property`, granular markings whose
  // selectors name that property count too.
  std::string object_tlp(const json& o, std::string_view property) const {
    std::string best;
    auto mark = [&](const std::string& ref) {
      auto it = markings_.find(ref);
      if (it != markings_.end()) best = stricter_tlp(best, it->second);
    };
    if (const json* refs = member(o, "object_marking_refs"); refs && refs->is_array())
      for (const auto& ref : *refs)
        if (ref.is_string()) mark(ref.get<std::string>());
    if (property.empty()) return best;
    if (const json* g = member(o, "granular_markings"); g && g->is_array()) {
      for (const auto& gm : *g) {
        const json* selectors = member(gm, "selectors");
        if (!selectors || !selectors->is_array()) continue;
        for (const auto& s : *selectors)
          if (s.is_string() && s.get<std::string>() == property)
            mark(string_member(gm, "marking_ref"));
      }
    }
    return best;
  }

  void indicator(const json& o, const std::string& p) {
    std::string id = string_member(o, "id");
    if (id.empty()) id = "indicator";
    if (const json* rev = member(o, "revoked"); rev && rev->is_boolean() && rev->get<bool>()) {
      r_.note(r_.where(p) + ": " + printable(id) + " is revoked (skipped)");
      return;
    }
    std::string pattern_type = "stix";  // STIX 2.0 indicators have no pattern_type
    if (const json* pt = member(o, "pattern_type")) {
      if (!pt->is_string()) {
        r_.problem(p + "/pattern_type", "expected a string");
        return;
      }
      pattern_type = pt->get<std::string>();
    }
    if (pattern_type != "stix") {
      r_.note(r_.where(p) + ": " + printable(id) + " has a " + printable(pattern_type, 40) +
              " pattern, which forage does not read (skipped)");
      return;
    }
    const json* pattern = member(o, "pattern");
    if (!pattern || !pattern->is_string()) {
      r_.problem(p + "/pattern", "STIX indicator " + printable(id) + " has no string pattern");
      return;
    }
    std::string pp = p + "/pattern";
    stix::Extraction ex;
    try {
      ex = stix::extract_indicators(stix::parse_pattern(pattern->get<std::string>()));
    } catch (const stix::PatternError& e) {
      r_.problem(pp, "STIX pattern of " + printable(id) + ": " + e.what());
      return;
    }
    for (const auto& problem : ex.problems)
      r_.value_note(pp, "STIX pattern of " + printable(id) + ": " + problem);
    std::string name = string_member(o, "name");
    std::string description = string_member(o, "description");
    std::string context = name;
    if (!description.empty()) context += (context.empty() ? "" : ": ") + description;
    std::string tlp = object_tlp(o, "pattern");
    for (auto& i : ex.indicators) r_.add(i.type, std::move(i.value), pp, context, tlp);
  }

  void observable(const json& o, const std::string& p, const std::string& tlp) {
    stix::ObjectPath path;
    path.object_type = string_member(o, "type");
    std::string context = string_member(o, "id");
    if (context.empty()) context = path.object_type;
    auto read = [&](const json& value, const std::string& vp) {
      auto rule = stix::path_rule(path);
      if (!rule) return;
      if (!value.is_string()) {
        r_.value_note(vp, path.text() + " is not a string");
        return;
      }
      auto typed = read_typed(*rule, value.get<std::string>());
      if (!typed.problem.empty()) {
        r_.value_note(vp, path.text() + ": " + typed.problem);
        return;
      }
      for (auto& c : typed.values) r_.add(c.type, std::move(c.value), vp, context, tlp);
    };
    for (auto prop : kScoProperties) {
      const json* v = member(o, std::string(prop).c_str());
      if (!v) continue;
      path.steps = {stix::PathStep{stix::PathStep::Kind::kKey, std::string(prop), 0}};
      read(*v, ptr(p, prop));
    }
    if (const json* hashes = member(o, "hashes"); hashes && hashes->is_object()) {
      for (const auto& [algo, v] : hashes->items()) {
        path.steps = {stix::PathStep{stix::PathStep::Kind::kKey, "hashes", 0},
                      stix::PathStep{stix::PathStep::Kind::kKey, algo, 0}};
        read(v, ptr(p + "/hashes", algo));
      }
    }
  }

  Reader& r_;
  std::map<std::string, std::string> markings_;
};

// ---------------------------------------------------------------------------------------------
// Any other JSON: its strings are free text.

void walk(const json& j, const std::string& p, Reader& r) {
  switch (j.type()) {
    case json::value_t::string:
      read_text(j.get_ref<const std::string&>(), r.at(p), r.out());
      break;
    case json::value_t::array:
      for (size_t i = 0; i < j.size(); ++i) walk(j[i], ptr(p, i), r);
      break;
    case json::value_t::object:
      for (const auto& [key, v] : j.items()) walk(v, ptr(p, key), r);
      break;
    default:
      break;
  }
}

}  // namespace

void read_json(std::string_view data, const Source& src, const ReadOptions& opts, IocSet& out,
               Format hint) {
  Reader r(src, opts, out);
  std::string name = src.display();
  if (size_t deep = too_deep(data); deep != std::string_view::npos) {
    auto lc = line_col(data, deep);
    input_problem(opts, out,
                  name + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                      " levels at line " + std::to_string(lc.line) + ", column " +
                      std::to_string(lc.column));
    return;
  }
  json j;
  try {
    j = json::parse(data.begin(), data.end());
  } catch (const json::parse_error& e) {
    // e.byte is 1-based: the position of the byte that could not be read.
    auto lc = line_col(data, e.byte > 0 ? e.byte - 1 : 0);
    input_problem(opts, out,
                  name + ": invalid JSON at line " + std::to_string(lc.line) + ", column " +
                      std::to_string(lc.column) + ": " + parse_reason(e.what()));
    return;
  }

  Format f = hint;
  if (f == Format::kAuto || f == Format::kJson) {
    if (is_forage(j))
      f = Format::kForageJson;
    else if (is_misp(j))
      f = Format::kMisp;
    else if (is_stix(j))
      f = Format::kStix;
    else
      f = Format::kJson;
  }
  switch (f) {
    case Format::kForageJson:
      if (!is_forage(j)) return r.problem("", "not a forage indicator file (no \"format\")");
      read_forage(j, r);
      break;
    case Format::kMisp:
      if (!is_misp(j)) return r.problem("", "not a MISP event (no \"Event\" or \"response\")");
      MispReader(r).read(j);
      break;
    case Format::kStix:
      if (!is_stix(j)) return r.problem("", "not a STIX 2.1 bundle or object");
      StixReader(r).read(j);
      break;
    default:
      walk(j, "", r);
      break;
  }
  r.finish();
}

}  // namespace forage::ioc

#include "bundle/pax.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "common/error.h"
#include "common/strings.h"

namespace forage::bundle {
namespace {

constexpr uint64_t kOctal11Max = 077777777777ull;  // largest value of a 12-byte octal field
constexpr size_t kMaxMetaSize = 1 << 20;           // cap on pax/GNU long-name data we buffer

bool all_zero(const char* b, size_t n) {
  return std::all_of(b, b + n, [](char c) { return c == 0; });
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0 && c < 0x7f; });
}

void put_octal(char* field, size_t width, uint64_t v) {
  // width-1 digits and a NUL, as GNU tar writes them.
  std::memset(field, '0', width - 1);
  field[width - 1] = 0;
  for (size_t i = width - 1; i-- > 0 && v > 0;) {
    field[i] = static_cast<char>('0' + (v & 7));
    v >>= 3;
  }
}

// Base-256 (GNU) for values an octal field cannot hold; readers that honour the pax record
// take that instead.
void put_number(char* field, size_t width, uint64_t v) {
  uint64_t max_octal = (1ull << (3 * (width - 1))) - 1;
  if (v <= max_octal) return put_octal(field, width, v);
  std::memset(field, 0, width);
  field[0] = static_cast<char>(0x80);
  for (size_t i = width; i-- > 1 && v > 0;) {
    field[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

void put_string(char* field, size_t width, std::string_view s) {
  std::memcpy(field, s.data(), std::min(width, s.size()));
}

void set_checksum(char* h) {
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (size_t i = 0; i < kTarBlock; ++i) sum += static_cast<unsigned char>(h[i]);
  std::snprintf(h + 148, 8, "%06o", sum);
  h[154] = 0;
  h[155] = ' ';
}

std::string pax_record(std::string_view key, std::string_view value) {
  size_t body = key.size() + value.size() + 3;  // ' ', '=', '\n'
  size_t len = body + 1;
  while (std::to_string(len).size() + body != len) len = std::to_string(len).size() + body;
  std::string r = std::to_string(len);
  r += ' ';
  r += key;
  r += '=';
  r += value;
  r += '\n';
  return r;
}

std::string ascii_fallback(std::string_view name, size_t max) {
  std::string out;
  for (char c : name) {
    if (out.size() >= max) break;
    out += (c > 0 && c < 0x7f) ? c : '_';
  }
  return out;
}

char typeflag_for(EntryType t) {
  return t == EntryType::kDirectory ? '5' : '0';
}

}  // namespace

std::string_view entry_type_name(EntryType t) {
  switch (t) {
    case EntryType::kFile:
      return "regular file";
    case EntryType::kDirectory:
      return "directory";
    case EntryType::kSymlink:
      return "symbolic link";
    case EntryType::kHardlink:
      return "hard link";
    case EntryType::kCharDevice:
      return "character device";
    case EntryType::kBlockDevice:
      return "block device";
    case EntryType::kFifo:
      return "FIFO";
    case EntryType::kOther:
      return "special member";
  }
  return "special member";
}

// ---------------------------------------------------------------------------------- writer

void PaxWriter::raw(const void* data, size_t size) {
  out_.write(data, size);
  offset_ += size;
}

void PaxWriter::begin(const Member& m) {
  if (in_member_)
    throw Error("tar writer: member '" + printable(m.name) + "' begun inside another");
  if (m.name.empty() || m.name.find('\0') != std::string::npos)
    throw Error("tar writer: invalid member name '" + printable(m.name) + "'");
  if (m.type != EntryType::kFile && m.type != EntryType::kDirectory)
    throw Error("tar writer: only files and directories are written");
  uint64_t size = m.type == EntryType::kDirectory ? 0 : m.size;

  std::string pax;
  bool long_name = m.name.size() > 100 || !is_ascii(m.name);
  // Non-UTF-8 names go into `path` as raw bytes, as GNU tar writes them: GNU tar 1.34 warns
  // about (and ignores) the POSIX `hdrcharset=BINARY` record, and it is the judge of our output.
  if (long_name) pax += pax_record("path", m.name);
  if (size > kOctal11Max) pax += pax_record("size", std::to_string(size));
  if (m.mtime_nsec != 0 || m.mtime_sec < 0 || static_cast<uint64_t>(m.mtime_sec) > kOctal11Max) {
    char buf[48];
    if (m.mtime_nsec != 0) {
      std::snprintf(buf, sizeof buf, "%lld.%09u", static_cast<long long>(m.mtime_sec),
                    m.mtime_nsec % 1000000000u);
      std::string s = buf;
      while (s.back() == '0') s.pop_back();
      pax += pax_record("mtime", s);
    } else {
      pax += pax_record("mtime", std::to_string(m.mtime_sec));
    }
  }
  uint64_t ustar_mtime = m.mtime_sec < 0 ? 0 : std::min<uint64_t>(m.mtime_sec, kOctal11Max);

  auto header = [&](std::string_view name, char type, uint64_t sz) {
    std::array<char, kTarBlock> h{};
    put_string(h.data(), 100, name);
    put_octal(h.data() + 100, 8, type == '5' ? (m.mode & 07777) | 0111 : m.mode & 07777);
    put_octal(h.data() + 108, 8, 0);
    put_octal(h.data() + 116, 8, 0);
    put_number(h.data() + 124, 12, sz);
    put_octal(h.data() + 136, 12, ustar_mtime);
    h[156] = type;
    std::memcpy(h.data() + 257,
                "ustar\0"
                "00",
                8);
    put_string(h.data() + 265, 32, "root");
    put_string(h.data() + 297, 32, "root");
    put_octal(h.data() + 329, 8, 0);
    put_octal(h.data() + 337, 8, 0);
    set_checksum(h.data());
    raw(h.data(), h.size());
  };

  if (!pax.empty()) {
    std::string base = m.name;
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (auto slash = base.rfind('/'); slash != std::string::npos) base = base.substr(slash + 1);
    std::string xname =
        "PaxHeaders." + std::to_string(++pax_count_) + "/" + ascii_fallback(base, 80);
    header(xname, 'x', pax.size());
    raw(pax.data(), pax.size());
    static const char zeros[kTarBlock] = {};
    if (pax.size() % kTarBlock) raw(zeros, kTarBlock - pax.size() % kTarBlock);
  }
  header(long_name ? ascii_fallback(m.name, 100) : m.name, typeflag_for(m.type), size);
  in_member_ = true;
  remaining_ = size;
  member_size_ = size;
}

void PaxWriter::write(const void* data, size_t size) {
  if (!in_member_) throw Error("tar writer: data outside a member");
  if (size > remaining_) throw Error("tar writer: more data than the member's declared size");
  raw(data, size);
  remaining_ -= size;
}

void PaxWriter::end() {
  if (!in_member_) throw Error("tar writer: no member to end");
  if (remaining_ != 0)
    throw Error("tar writer: member ended " + std::to_string(remaining_) +
                " bytes short of its declared size");
  static const char zeros[kTarBlock] = {};
  if (member_size_ % kTarBlock) raw(zeros, kTarBlock - member_size_ % kTarBlock);
  in_member_ = false;
}

void PaxWriter::add(const Member& m, std::string_view data) {
  Member copy = m;
  copy.size = data.size();
  begin(copy);
  write(data.data(), data.size());
  end();
}

void PaxWriter::finish() {
  if (in_member_) throw Error("tar writer: archive finished inside a member");
  static const char zeros[2 * kTarBlock] = {};
  raw(zeros, sizeof zeros);
  out_.finish();
}

// ---------------------------------------------------------------------------------- reader

void PaxReader::fail(const std::string& why) const {
  throw Error(name_ + ": offset " + std::to_string(offset_) + ": " + why, Exit::kVerifyFailed);
}

bool PaxReader::read_block(char* block) {
  size_t n = read_full(in_, block, kTarBlock);
  offset_ += n;
  if (n == 0) return false;
  if (n < kTarBlock) fail("truncated archive (a header block is cut short)");
  return true;
}

void PaxReader::skip_rest() {
  char buf[16384];
  while (remaining_ > 0) {
    if (read(buf, sizeof buf) == 0) break;
  }
  while (padding_ > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(padding_, sizeof buf));
    size_t n = read_full(in_, buf, want);
    offset_ += n;
    padding_ -= n;
    if (n < want) fail("truncated archive (padding after the last member is cut short)");
  }
}

size_t PaxReader::read(void* data, size_t size) {
  if (remaining_ == 0) return 0;
  size_t want = static_cast<size_t>(std::min<uint64_t>(remaining_, size));
  size_t n = in_.read(data, want);
  if (n == 0)
    fail("truncated archive (member data ends " + std::to_string(remaining_) + " bytes early)");
  offset_ += n;
  remaining_ -= n;
  return n;
}

std::string PaxReader::read_meta_data(uint64_t size, const char* what) {
  if (size > kMaxMetaSize)
    fail(std::string(what) + " of " + std::to_string(size) + " bytes (limit 1 MiB)");
  std::string data(static_cast<size_t>(size), '\0');
  size_t n = read_full(in_, data.data(), data.size());
  offset_ += n;
  if (n < data.size()) fail(std::string("truncated archive (") + what + " cut short)");
  uint64_t pad = (kTarBlock - size % kTarBlock) % kTarBlock;
  char buf[kTarBlock];
  n = read_full(in_, buf, static_cast<size_t>(pad));
  offset_ += n;
  if (n < pad) fail(std::string("truncated archive (") + what + " cut short)");
  return data;
}

namespace {

struct PaxValues {
  std::optional<std::string> path, linkpath;
  std::optional<uint64_t> size;
  std::optional<std::pair<int64_t, uint32_t>> mtime;
  bool sparse = false;
};

bool parse_u64(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

bool parse_pax_time(std::string_view s, int64_t& sec, uint32_t& nsec) {
  bool neg = !s.empty() && s[0] == '-';
  if (neg) s.remove_prefix(1);
  auto dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  uint64_t w = 0;
  if (!parse_u64(whole, w) || w > static_cast<uint64_t>(INT64_MAX)) return false;
  uint32_t ns = 0;
  for (size_t i = 0; i < frac.size(); ++i) {
    if (frac[i] < '0' || frac[i] > '9') return false;
    if (i < 9) ns = ns * 10 + static_cast<uint32_t>(frac[i] - '0');
  }
  for (size_t i = frac.size(); i < 9; ++i) ns *= 10;
  sec = neg ? -static_cast<int64_t>(w) : static_cast<int64_t>(w);
  nsec = ns;
  if (neg && nsec) {  // -1.5 is 1.5 s before the epoch: sec -2, nsec 0.5e9
    sec -= 1;
    nsec = 1000000000u - nsec;
  }
  return true;
}

// Parses "len key=value\n" records; returns an error text or "".
std::string parse_pax(std::string_view data, PaxValues* v) {
  size_t pos = 0;
  while (pos < data.size()) {
    if (data[pos] == '\0' && all_zero(data.data() + pos, data.size() - pos)) break;
    size_t sp = data.find(' ', pos);
    if (sp == std::string_view::npos || sp - pos > 8) return "malformed pax record length";
    uint64_t len = 0;
    if (!parse_u64(data.substr(pos, sp - pos), len)) return "malformed pax record length";
    if (len < sp - pos + 3 || len > data.size() - pos) return "pax record length out of range";
    std::string_view rec = data.substr(sp + 1, len - (sp - pos) - 1);
    if (rec.empty() || rec.back() != '\n') return "pax record not ended by a newline";
    rec.remove_suffix(1);
    auto eq = rec.find('=');
    if (eq == std::string_view::npos || eq == 0) return "pax record without key";
    std::string_view key = rec.substr(0, eq), value = rec.substr(eq + 1);
    if (v) {
      if (key == "path") {
        v->path = std::string(value);
      } else if (key == "linkpath") {
        v->linkpath = std::string(value);
      } else if (key == "size") {
        uint64_t s = 0;
        if (!parse_u64(value, s)) return "invalid pax size '" + printable(value, 40) + "'";
        v->size = s;
      } else if (key == "mtime") {
        int64_t sec = 0;
        uint32_t nsec = 0;
        if (!parse_pax_time(value, sec, nsec))
          return "invalid pax mtime '" + printable(value, 40) + "'";
        v->mtime = std::make_pair(sec, nsec);
      } else if (key.substr(0, 11) == "GNU.sparse.") {
        v->sparse = true;
      }
    }
    pos += len;
  }
  return "";
}

// Octal (possibly space/NUL padded) or GNU base-256. Returns false when malformed.
bool parse_number(const char* field, size_t width, uint64_t& out) {
  auto first = static_cast<unsigned char>(field[0]);
  if (first & 0x80) {
    if (first != 0x80) return false;  // negative or reserved base-256 values
    uint64_t v = 0;
    for (size_t i = 1; i < width; ++i) {
      if (v >> 56) return false;
      v = (v << 8) | static_cast<unsigned char>(field[i]);
    }
    out = v;
    return true;
  }
  size_t i = 0;
  while (i < width && (field[i] == ' ' || field[i] == 0)) {
    if (field[i] == 0 && all_zero(field + i, width - i)) {
      out = 0;
      return true;
    }
    ++i;
  }
  uint64_t v = 0;
  size_t digits = 0;
  for (; i < width; ++i) {
    char c = field[i];
    if (c == ' ' || c == 0) break;
    if (c < '0' || c > '7') return false;
    if (v >> 61) return false;
    v = v * 8 + static_cast<uint64_t>(c - '0');
    ++digits;
  }
  for (; i < width; ++i)
    if (field[i] != ' ' && field[i] != 0) return false;
  out = v;
  (void)digits;
  return true;
}

std::string field_string(const char* f, size_t width) {
  return std::string(f, strnlen(f, width));
}

// What the extended headers before a member said about it: pax records, GNU long names.
struct ExtendedHeaders {
  PaxValues pax;
  std::optional<std::string> long_name, long_link;
};

// The header checksum, accepted as unsigned or (old tars) signed byte sum.
bool checksum_matches(const char* b) {
  unsigned sum = 0;
  int ssum = 0;
  for (size_t i = 0; i < kTarBlock; ++i) {
    unsigned char c = (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(b[i]);
    sum += c;
    ssum += static_cast<signed char>(c);
  }
  uint64_t stored = 0;
  return parse_number(b + 148, 8, stored) &&
         (stored == sum || stored == static_cast<uint64_t>(ssum));
}

// The member type of a typeflag; GNU 'S' is a sparse file.
EntryType entry_type_of(char type, bool& sparse) {
  switch (type) {
    case '0':
    case '\0':
    case '7':
      return EntryType::kFile;
    case 'S':
      sparse = true;
      return EntryType::kFile;
    case '5':
      return EntryType::kDirectory;
    case '2':
      return EntryType::kSymlink;
    case '1':
      return EntryType::kHardlink;
    case '3':
      return EntryType::kCharDevice;
    case '4':
      return EntryType::kBlockDevice;
    case '6':
      return EntryType::kFifo;
    default:
      return EntryType::kOther;
  }
}

// A member's header block `b` (ustar or GNU, `size` already parsed) with what its extended
// headers override. Returns why the header is malformed, or "".
std::string entry_from_header(const char* b, bool posix, uint64_t size, const ExtendedHeaders& x,
                              TarEntry& e) {
  char type = b[156];
  e.typeflag = type;
  if (x.pax.path)
    e.name = *x.pax.path;
  else if (x.long_name)
    e.name = *x.long_name;
  else {
    e.name = field_string(b, 100);
    std::string prefix = posix ? field_string(b + 345, 155) : "";
    if (!prefix.empty()) e.name = prefix + "/" + e.name;
  }
  if (e.name.find('\0') != std::string::npos) return "member name contains a NUL byte";
  if (e.name.empty()) return "member with an empty name";
  e.linkname = x.pax.linkpath ? *x.pax.linkpath
               : x.long_link  ? *x.long_link
                              : field_string(b + 157, 100);
  e.size = x.pax.size ? *x.pax.size : size;
  uint64_t mode = 0, mtime = 0;
  if (!parse_number(b + 100, 8, mode)) return "invalid mode field";
  e.mode = static_cast<uint32_t>(mode & 07777);
  if (x.pax.mtime) {
    e.mtime_sec = x.pax.mtime->first;
    e.mtime_nsec = x.pax.mtime->second;
  } else {
    if (!parse_number(b + 136, 12, mtime)) return "invalid mtime field";
    e.mtime_sec = static_cast<int64_t>(std::min<uint64_t>(mtime, INT64_MAX));
  }
  e.type = entry_type_of(type, e.sparse);
  if (x.pax.sparse) e.sparse = true;
  return "";
}

}  // namespace

std::optional<TarEntry> PaxReader::next() {
  skip_rest();
  if (ended_) return std::nullopt;
  ExtendedHeaders x;
  uint64_t start = offset_;
  for (int meta = 0;; ++meta) {
    char b[kTarBlock];
    if (!read_block(b)) fail("truncated archive (no end-of-archive marker)");
    if (all_zero(b, kTarBlock)) {
      if (meta > 0) fail("extended header not followed by a member");
      char b2[kTarBlock];
      if (!read_block(b2)) fail("truncated archive (end-of-archive marker is a single block)");
      if (!all_zero(b2, kTarBlock)) fail("lone zero block inside the archive");
      ended_ = true;
      return std::nullopt;
    }
    if (!checksum_matches(b)) fail("header checksum mismatch (not a tar header, or damaged)");
    bool posix = std::memcmp(b + 257, "ustar\0", 6) == 0;
    bool gnu = std::memcmp(b + 257, "ustar  \0", 8) == 0;
    if (!posix && !gnu) fail("not a ustar/pax/GNU tar header");
    uint64_t size = 0;
    if (!parse_number(b + 124, 12, size)) fail("invalid size field");
    char type = b[156];
    if (type == 'x' || type == 'g') {
      std::string data = read_meta_data(size, "pax extended header");
      std::string err = parse_pax(data, type == 'x' ? &x.pax : nullptr);
      if (!err.empty()) fail(err);
      if (meta > 64) fail("too many extended headers in a row");
      continue;
    }
    if (type == 'L' || type == 'K') {
      std::string data = read_meta_data(size, "GNU long name");
      while (!data.empty() && data.back() == '\0') data.pop_back();
      (type == 'L' ? x.long_name : x.long_link) = data;
      if (meta > 64) fail("too many extended headers in a row");
      continue;
    }
    TarEntry e;
    e.offset = start;
    std::string err = entry_from_header(b, posix, size, x, e);
    if (!err.empty()) fail(err);
    // Links, devices, FIFOs and directories carry no data whatever their size field says.
    bool has_data = !(type >= '1' && type <= '6');
    remaining_ = has_data ? e.size : 0;
    padding_ = has_data ? (kTarBlock - e.size % kTarBlock) % kTarBlock : 0;
    return e;
  }
}

bool PaxReader::data_after_end() {
  char buf[16384];
  bool nonzero = false;
  for (;;) {
    size_t n = in_.read(buf, sizeof buf);
    if (n == 0) break;
    offset_ += n;
    if (!all_zero(buf, n)) nonzero = true;
  }
  return nonzero;
}

}  // namespace forage::bundle

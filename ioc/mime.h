// A focused MIME decoder for CSIRT broadcast e-mails (RFC 5322, RFC 2045-2047, RFC 2231,
// RFC 3676): headers, multipart trees, message/rfc822, quoted-printable, base64 (OpenSSL EVP),
// charsets (iconv, with latin1 and windows-1252 built in because a static glibc may have no
// gconv modules), HTML to text. It only decodes; read_email() (mime.cpp, reader.h) turns the
// decoded parts into indicators. Everything here takes hostile bytes: no input makes it read
// past a buffer, recurse without bound or throw anything but std::bad_alloc.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace forage::ioc::mime {

// Multipart and message/rfc822 levels together; deeper parts are reported, not read.
inline constexpr size_t kMaxDepth = 16;
// One header field (its unfolded value). RFC 5322 allows 998 bytes per line; real mailers
// exceed that, but not by this much.
inline constexpr size_t kMaxHeaderField = size_t{64} * 1024;

// --- headers ---

struct Field {
  std::string name;   // as written
  std::string value;  // unfolded, raw (RFC 2047 words not decoded), trimmed
};

struct Headers {
  std::vector<Field> fields;
  // First field with that name (case-insensitive), nullptr when absent.
  const std::string* find(std::string_view name) const;
};

// An entity split into its header fields and body.
struct Entity {
  Headers headers;
  std::string_view body;
  std::vector<std::string> problems;  // e.g. "header field 3 is longer than 65536 bytes"
};
// Splits at the first empty line. With `mbox`, a leading "From " separator line is skipped.
// A line that is neither a field nor a continuation ends the header section (it starts the body).
Entity split_entity(std::string_view data, bool mbox = false);

// A structured header value: Content-Type, Content-Disposition.
struct HeaderValue {
  std::string value;  // lower-case, e.g. "text/plain", "attachment"; "" when absent/garbled
  std::vector<std::pair<std::string, std::string>> params;  // lower-case names; values decoded
  // The parameter value (RFC 2231 continuations joined and charset-decoded), or nullopt.
  std::optional<std::string> param(std::string_view name) const;
};
HeaderValue parse_header_value(std::string_view raw);

// RFC 2047 encoded words (=?utf-8?Q?...?=, =?iso-8859-1?B?...?=) decoded to UTF-8; whitespace
// between adjacent encoded words dropped; malformed words kept as written.
std::string decode_words(std::string_view raw);

// Domains of the addresses in an address-list header (From, Sender, Reply-To), canonical.
// Only the addr-spec counts, so a display name "abuse@egi.eu" <x@evil.example> gives evil.example.
std::vector<std::string> address_domains(std::string_view raw);

// --- transfer encodings ---

// Soft line breaks ("=" at line end, trailing blanks allowed) are joined; "=XX" decoded (either
// case); an invalid escape is kept literally. Line ends become "\n".
std::string decode_quoted_printable(std::string_view in);

struct Decoded {
  std::string data;
  std::string error;       // empty when the input was valid
  bool truncated = false;  // the only problem: the last 4-character group is incomplete
  bool ok() const { return error.empty(); }
};
// Base64 with line breaks and blanks; any other byte outside the alphabet is an error
// ("invalid character '#' at line 3"), as is a length that is not a whole number of groups
// ("truncated"). On error, data holds what decoded before the problem.
Decoded decode_base64(std::string_view in);

// --- charsets ---

struct Utf8 {
  std::string text;
  bool converted = true;  // false: the charset is not available here; text holds the raw bytes
};
// Bytes in `charset` (a MIME charset name, any case) to UTF-8. us-ascii, utf-8 and unnamed
// charsets pass through; latin1 and windows-1252 are converted here; others through iconv.
// Invalid sequences become U+FFFD.
Utf8 to_utf8(std::string_view bytes, std::string_view charset);

// --- text bodies ---

// HTML to readable text: tags, scripts, styles and comments removed, entities decoded, block
// elements on their own lines, and href/src values kept as text so linked URLs are seen.
std::string html_to_text(std::string_view html);
// RFC 3676 format=flowed: soft-broken lines (ending in a space) joined; with delsp the space
// is removed too; space-stuffing undone.
std::string decode_flowed(std::string_view text, bool delsp);
// OpenPGP armour: signature and encrypted blocks blanked (their base64 is noise), clear-signed
// headers dropped and dash-escaping undone. Line count is kept so line numbers stay right.
std::string strip_pgp_armor(std::string_view text);

// --- multipart ---

struct Multipart {
  std::vector<std::string_view> parts;  // bodies between delimiters, preamble/epilogue dropped
  bool closed = false;                  // the close delimiter "--boundary--" was seen
};
Multipart split_multipart(std::string_view body, std::string_view boundary);

// --- the decoded message tree ---

struct Message;

struct Part {
  enum class Kind {
    kText,       // a text body (text/plain, other inline text/*): read as free text
    kHtml,       // text/html, already turned into text: read as free text
    kData,       // an attachment of text, CSV or JSON: read by content (reader.h read_input)
    kMessage,    // message/rfc822: `message` holds it
    kSkipped,    // binary, signature, empty: not read (`note` says why)
    kEncrypted,  // PGP/MIME or S/MIME encrypted: `note` names the scheme; never read
  };
  Kind kind = Kind::kSkipped;
  std::string path;          // IMAP section number: "1", "2.1"
  std::string filename;      // decoded, made safe for display ("" when none)
  std::string content_type;  // lower-case "text/plain"
  std::string text;          // decoded bytes, UTF-8 for text kinds
  std::string note;          // why a part was skipped, or a charset remark
  std::shared_ptr<const Message> message;
  // The name used in messages and Source::part: "2" or "2/iocs.csv".
  std::string label() const;
};

struct Problem {
  std::string part;    // a Part::label(), or a Message::label for the message as a whole
  std::string reason;  // "invalid base64: invalid character '#' at line 3"
};

struct Message {
  std::string path;   // "" for the top-level message, "3" for one encapsulated in part 3
  std::string label;  // its part's label ("3/fwd.eml"); "" for the top-level message
  Headers headers;
  std::string subject;                      // decoded
  std::vector<std::string> sender_domains;  // From, Sender, Reply-To
  std::vector<Part> parts;                  // leaves and encapsulated messages, document order
  std::vector<Problem> problems;            // document order
  // Signatures seen (multipart/signed, S/MIME signed-data, clearsigned text): "OpenPGP",
  // "S/MIME"; forage reads the signed content and never verifies the signature.
  std::vector<std::string> signatures;
  // Section name of the header (for the Subject's indicators): "HEADER", "3.HEADER".
  std::string header_label() const;
};

// Decodes a whole message. Never throws for bad input: problems are listed in the result.
Message parse_message(std::string_view data);

// An OpenPGP armored message ("-----BEGIN PGP MESSAGE-----" on a line of its own): ciphertext.
bool has_pgp_message(std::string_view text);
// Clear-signed OpenPGP text ("-----BEGIN PGP SIGNED MESSAGE-----"): read after strip_pgp_armor.
bool is_clearsigned(std::string_view text);

}  // namespace forage::ioc::mime

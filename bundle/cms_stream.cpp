#include "bundle/cms_stream.h"

#include <climits>
#include <cstring>
#include <utility>

#include <openssl/err.h>

#include "common/error.h"

namespace forage::bundle {
namespace {

// 1.2.840.113549.1.9.16.1.23 and 1.2.840.113549.1.7.3
const unsigned char kOidAuthEnveloped[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
                                           0x01, 0x09, 0x10, 0x01, 0x17};
const unsigned char kOidEnveloped[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03};

std::string_view oid_view(const unsigned char* p, size_t n) {
  return std::string_view(reinterpret_cast<const char*>(p), n);
}

// ---- a BIO that writes into a Sink (exceptions are parked, never thrown through OpenSSL)
struct SinkState {
  Sink* sink;
  std::exception_ptr error;
};

int sink_bio_write(BIO* b, const char* data, int len) {
  auto* st = static_cast<SinkState*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  try {
    st->sink->write(data, static_cast<size_t>(len));
    return len;
  } catch (...) {
    st->error = std::current_exception();
    return -1;
  }
}

long sink_bio_ctrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}
int bio_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD* sink_method() {
  static BIO_METHOD* m = [] {
    BIO_METHOD* meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "forage sink");
    BIO_meth_set_write(meth, sink_bio_write);
    BIO_meth_set_ctrl(meth, sink_bio_ctrl);
    BIO_meth_set_create(meth, bio_create);
    return meth;
  }();
  return m;
}

}  // namespace

bool looks_like_cms_enveloped(std::string_view b) {
  if (b.size() < 4 || static_cast<unsigned char>(b[0]) != 0x30) return false;
  size_t p = 1;
  auto l = static_cast<unsigned char>(b[p++]);
  if (l & 0x80) p += l & 0x7f;  // long form or indefinite (0x80)
  if (p + 2 > b.size() || b[p] != 0x06) return false;
  size_t n = static_cast<unsigned char>(b[p + 1]);
  std::string_view oid = b.substr(p + 2, n);
  return oid == oid_view(kOidAuthEnveloped, sizeof kOidAuthEnveloped) ||
         oid == oid_view(kOidEnveloped, sizeof kOidEnveloped);
}

// ---------------------------------------------------------------------------------- encrypt

CmsEncryptSink::CmsEncryptSink(Sink& next, const std::vector<X509*>& recipients)
    : next_(next), buf_(64 * 1024) {
  state_.sink = &next;
  if (recipients.empty()) throw Error("CMS encryption: no recipient certificate");
  X509StackRef certs(sk_X509_new_null());
  for (X509* c : recipients) sk_X509_push(certs.get(), c);
  ERR_clear_error();
  cms_.reset(CMS_encrypt(certs.get(), nullptr, EVP_aes_256_gcm(), CMS_BINARY | CMS_STREAM));
  if (!cms_) throw Error("CMS encryption: " + openssl_errors());
  out_ = BIO_new(sink_method());
  if (!out_) throw Error("CMS encryption: " + openssl_errors());
  BIO_set_data(out_, &state_);
  chain_ = BIO_new_CMS(out_, cms_.get());
  if (!chain_) {
    BIO_free(out_);
    out_ = nullptr;
    throw Error("CMS encryption: " + openssl_errors());
  }
}

void CmsEncryptSink::release_chain() {
  // Free the filters OpenSSL pushed on top of our BIO, then ours (same order as OpenSSL's own
  // i2d_ASN1_bio_stream).
  while (chain_ && chain_ != out_) {
    BIO* below = BIO_pop(chain_);
    BIO_free(chain_);
    chain_ = below;
  }
  chain_ = nullptr;
  if (out_) BIO_free(out_);
  out_ = nullptr;
}

CmsEncryptSink::~CmsEncryptSink() {
  release_chain();
}

void CmsEncryptSink::push(const char* data, size_t size) {
  while (size > 0) {
    int n = static_cast<int>(std::min<size_t>(size, INT_MAX / 2));
    int w = BIO_write(chain_, data, n);
    if (w <= 0) {
      if (state_.error) std::rethrow_exception(state_.error);
      throw Error("CMS encryption: " + openssl_errors());
    }
    data += w;
    size -= static_cast<size_t>(w);
  }
}

void CmsEncryptSink::write(const void* data, size_t size) {
  if (!chain_) throw Error("CMS encryption: stream already finished");
  // Each BIO write becomes one OCTET STRING chunk: gather small writes (tar headers) first.
  const char* p = static_cast<const char*>(data);
  if (used_ + size <= buf_.size()) {
    std::memcpy(buf_.data() + used_, p, size);
    used_ += size;
    return;
  }
  if (used_) push(buf_.data(), std::exchange(used_, 0));
  if (size >= buf_.size())
    push(p, size);
  else {
    std::memcpy(buf_.data(), p, size);
    used_ = size;
  }
}

void CmsEncryptSink::flush() {
  if (!chain_) return;
  if (used_) push(buf_.data(), std::exchange(used_, 0));
  next_.flush();
}

void CmsEncryptSink::finish() {
  if (!chain_) throw Error("CMS encryption: stream already finished");
  if (used_) push(buf_.data(), std::exchange(used_, 0));
  if (BIO_flush(chain_) != 1) {
    if (state_.error) std::rethrow_exception(state_.error);
    throw Error("CMS encryption: " + openssl_errors());
  }
  if (state_.error) std::rethrow_exception(state_.error);
  release_chain();
  next_.finish();
}

// ---------------------------------------------------------------------------------- decrypt

struct CmsDecryptSource::Impl {
  Source& in;
  std::string name;
  std::string buf;  // read-ahead
  size_t pos = 0;
  uint64_t offset = 0;

  // Encrypted content framing.
  bool primitive = false;  // [0] IMPLICIT OCTET STRING, definite
  bool constructed_indef = false;
  uint64_t outer_remaining = 0;  // constructed definite: bytes of chunks left
  uint64_t chunk_remaining = 0;
  bool content_done = false;

  bool aeci_indef = false, aed_indef = false, ctx_indef = false, ci_indef = false;
  std::string mac;
  std::exception_ptr error;
  EVP_CIPHER_CTX* cipher_ctx = nullptr;
  CmsPtr cms;
  BIO* src_bio = nullptr;
  BIO* chain = nullptr;  // cipher BIO on top of src_bio
  bool eof = false;

  Impl(Source& s, std::string n) : in(s), name(std::move(n)) {}
  ~Impl() {
    // OpenSSL's filters on top of our BIO first, then ours (also on a failed construction).
    BIO* b = chain;
    while (b && b != src_bio) {
      BIO* below = BIO_pop(b);
      BIO_free(b);
      b = below;
    }
    if (src_bio) BIO_free(src_bio);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  [[noreturn]] void fail(const std::string& why) const {
    throw Error(name + ": CMS offset " + std::to_string(offset) + ": " + why, Exit::kVerifyFailed);
  }
  bool fill(size_t n) {
    if (pos > 0 && pos == buf.size()) {
      buf.clear();
      pos = 0;
    }
    while (buf.size() - pos < n) {
      char tmp[65536];
      size_t got = in.read(tmp, sizeof tmp);
      if (got == 0) return false;
      if (pos > 0) {
        buf.erase(0, pos);
        pos = 0;
      }
      buf.append(tmp, got);
    }
    return true;
  }
  unsigned char byte() {
    if (!fill(1)) fail("truncated encrypted bundle");
    ++offset;
    return static_cast<unsigned char>(buf[pos++]);
  }
  std::string take(size_t n) {
    if (!fill(n)) fail("truncated encrypted bundle");
    std::string s = buf.substr(pos, n);
    pos += n;
    offset += n;
    return s;
  }
  struct Header {
    unsigned char tag = 0;
    bool indefinite = false;
    uint64_t length = 0;
    std::string raw;
  };
  Header header() {
    Header h;
    h.tag = byte();
    h.raw += static_cast<char>(h.tag);
    if ((h.tag & 0x1f) == 0x1f) fail("high tag numbers are not used by CMS here");
    unsigned char l = byte();
    h.raw += static_cast<char>(l);
    if (l == 0x80) {
      if (!(h.tag & 0x20)) fail("indefinite length on a primitive element");
      h.indefinite = true;
    } else if (l & 0x80) {
      int n = l & 0x7f;
      if (n > 8) fail("length field too long");
      for (int i = 0; i < n; ++i) {
        unsigned char c = byte();
        h.raw += static_cast<char>(c);
        if (h.length >> 56) fail("length overflow");
        h.length = (h.length << 8) | c;
      }
    } else {
      h.length = l;
    }
    return h;
  }
  // A whole definite-length element (header already read), kept raw for OpenSSL.
  std::string element(const Header& h, const char* what, size_t limit = 1 << 20) {
    if (h.indefinite) fail(std::string(what) + ": indefinite length not supported here");
    if (h.length > limit) fail(std::string(what) + ": too large");
    return h.raw + take(static_cast<size_t>(h.length));
  }
  void end_of_contents(const char* what) {
    if (byte() != 0 || byte() != 0) fail(std::string("expected the end of ") + what);
  }

  // Next bytes of encrypted content; 0 at its end (after which the trailer has been parsed).
  size_t content(char* out, size_t size) {
    if (content_done) return 0;
    for (;;) {
      if (chunk_remaining > 0) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(chunk_remaining, size));
        if (!fill(1)) fail("truncated encrypted bundle (inside the encrypted content)");
        size_t n = std::min(want, buf.size() - pos);
        std::memcpy(out, buf.data() + pos, n);
        pos += n;
        offset += n;
        chunk_remaining -= n;
        return n;
      }
      if (primitive) break;
      if (!constructed_indef && outer_remaining == 0) break;
      Header h = header();
      if (constructed_indef && h.tag == 0 && h.length == 0 && !h.indefinite) break;
      if (h.tag != 0x04 || h.indefinite) fail("unexpected element inside the encrypted content");
      if (!constructed_indef) {
        uint64_t used = h.raw.size() + h.length;
        if (used > outer_remaining) fail("encrypted content chunk overruns its container");
        outer_remaining -= used;
      }
      chunk_remaining = h.length;
    }
    trailer();
    content_done = true;
    return 0;
  }

  void trailer() {
    if (aeci_indef) end_of_contents("AuthEncryptedContentInfo");
    Header h = header();
    if (h.tag == 0xa1) fail("authenticated attributes are not supported");
    if (h.tag != 0x04 || h.indefinite || h.length == 0 || h.length > 16)
      fail("missing or malformed GCM tag (mac)");
    mac = take(static_cast<size_t>(h.length));
    if (aed_indef) {
      Header t = header();
      if (t.tag == 0xa2) {
        if (t.indefinite) fail("indefinite unauthenticated attributes");
        take(static_cast<size_t>(t.length));
        t = header();
      }
      if (t.tag != 0 || t.length != 0) fail("expected the end of AuthEnvelopedData");
    }
    if (ctx_indef) end_of_contents("the [0] content");
    if (ci_indef) end_of_contents("ContentInfo");
    if (!cipher_ctx || EVP_CIPHER_CTX_ctrl(cipher_ctx, EVP_CTRL_AEAD_SET_TAG,
                                           static_cast<int>(mac.size()), mac.data()) <= 0)
      fail("cannot set the GCM tag: " + openssl_errors());
  }
};

namespace {

int src_bio_read(BIO* b, char* out, int len) {
  auto* impl = static_cast<CmsDecryptSource::Impl*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  try {
    return static_cast<int>(impl->content(out, static_cast<size_t>(len)));
  } catch (...) {
    impl->error = std::current_exception();
    return -1;
  }
}

long src_bio_ctrl(BIO* b, int cmd, long, void*) {
  auto* impl = static_cast<CmsDecryptSource::Impl*>(BIO_get_data(b));
  if (cmd == BIO_CTRL_EOF) return impl->content_done ? 1 : 0;
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

BIO_METHOD* source_method() {
  static BIO_METHOD* m = [] {
    BIO_METHOD* meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "forage source");
    BIO_meth_set_read(meth, src_bio_read);
    BIO_meth_set_ctrl(meth, src_bio_ctrl);
    BIO_meth_set_create(meth, bio_create);
    return meth;
  }();
  return m;
}

std::string der_length(size_t n) {
  std::string out;
  if (n < 0x80) {
    out += static_cast<char>(n);
    return out;
  }
  std::string bytes;
  while (n) {
    bytes.insert(bytes.begin(), static_cast<char>(n & 0xff));
    n >>= 8;
  }
  out += static_cast<char>(0x80 | bytes.size());
  return out + bytes;
}

std::string der(unsigned char tag, const std::string& content) {
  return std::string(1, static_cast<char>(tag)) + der_length(content.size()) + content;
}

}  // namespace

CmsDecryptSource::CmsDecryptSource(Source& in, EVP_PKEY* key, X509* cert, std::string name)
    : impl_(std::make_unique<Impl>(in, std::move(name))) {
  Impl& m = *impl_;
  auto ci = m.header();
  if (ci.tag != 0x30) m.fail("not a CMS ContentInfo");
  m.ci_indef = ci.indefinite;
  auto oid_h = m.header();
  std::string oid = m.element(oid_h, "content type", 64);
  std::string oid_value = oid.substr(oid_h.raw.size());
  if (oid_value == oid_view(kOidEnveloped, sizeof kOidEnveloped))
    m.fail("CMS EnvelopedData (CBC) is not a forage bundle: forage writes AuthEnvelopedData");
  if (oid_value != oid_view(kOidAuthEnveloped, sizeof kOidAuthEnveloped))
    m.fail("not CMS AuthEnvelopedData");
  auto ctx_h = m.header();
  if (ctx_h.tag != 0xa0) m.fail("malformed ContentInfo");
  m.ctx_indef = ctx_h.indefinite;
  auto aed = m.header();
  if (aed.tag != 0x30) m.fail("malformed AuthEnvelopedData");
  m.aed_indef = aed.indefinite;
  if (!m.aed_indef) m.fail("definite-length AuthEnvelopedData is not supported (not streamed)");
  std::string version = m.element(m.header(), "version", 16);
  auto h = m.header();
  std::string originator;
  if (h.tag == 0xa0) {
    originator = m.element(h, "originatorInfo");
    h = m.header();
  }
  if (h.tag != 0x31) m.fail("missing recipientInfos");
  std::string recipients = m.element(h, "recipientInfos");
  auto aeci = m.header();
  if (aeci.tag != 0x30) m.fail("malformed AuthEncryptedContentInfo");
  m.aeci_indef = aeci.indefinite;
  if (!m.aeci_indef) m.fail("definite-length encrypted content is not supported (not streamed)");
  std::string ctype = m.element(m.header(), "content type", 64);
  std::string calg = m.element(m.header(), "content encryption algorithm", 4096);
  auto ec = m.header();
  if (ec.tag == 0x80) {
    m.primitive = true;
    m.chunk_remaining = ec.length;
  } else if (ec.tag == 0xa0) {
    m.constructed_indef = ec.indefinite;
    m.outer_remaining = ec.length;
  } else {
    m.fail("no encrypted content (detached content is not a bundle)");
  }

  // The header OpenSSL gets: content left out, a placeholder tag replaced before the last block.
  std::string aed_der = der(0x30, version + originator + recipients + der(0x30, ctype + calg) +
                                      der(0x04, std::string(16, '\0')));
  std::string ci_der =
      der(0x30, der(0x06, std::string(reinterpret_cast<const char*>(kOidAuthEnveloped),
                                      sizeof kOidAuthEnveloped)) +
                    der(0xa0, aed_der));
  ERR_clear_error();
  const auto* p = reinterpret_cast<const unsigned char*>(ci_der.data());
  m.cms.reset(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(ci_der.size())));
  if (!m.cms) m.fail("malformed CMS header: " + openssl_errors());
  if (CMS_decrypt_set1_pkey_and_peer(m.cms.get(), key, cert, nullptr) != 1)
    throw Error(m.name + ": cannot decrypt: " +
                (cert ? "the bundle is not encrypted to this certificate"
                      : "no recipient matches this key") +
                " (" + openssl_errors() + ")");
  m.src_bio = BIO_new(source_method());
  if (!m.src_bio) m.fail(openssl_errors());
  BIO_set_data(m.src_bio, impl_.get());
  m.chain = CMS_dataInit(m.cms.get(), m.src_bio);
  if (!m.chain || m.chain == m.src_bio) m.fail("cannot set up decryption: " + openssl_errors());
  if (BIO_get_cipher_ctx(m.chain, &m.cipher_ctx) != 1 || !m.cipher_ctx)
    m.fail("cannot reach the cipher context");
  int nrec = sk_CMS_RecipientInfo_num(CMS_get0_RecipientInfos(m.cms.get()));
  description_ = "CMS AuthEnvelopedData, AES-256-GCM, " + std::to_string(nrec) + " recipient(s)";
}

CmsDecryptSource::~CmsDecryptSource() = default;

size_t CmsDecryptSource::read(void* data, size_t size) {
  Impl& m = *impl_;
  if (m.eof || size == 0) return 0;
  int want = static_cast<int>(std::min<size_t>(size, 1 << 20));
  int n = BIO_read(m.chain, data, want);
  if (n > 0) return static_cast<size_t>(n);
  if (m.error) std::rethrow_exception(m.error);
  if (!m.content_done) m.fail("decryption failed: " + openssl_errors());
  if (BIO_get_cipher_status(m.chain) != 1)
    throw Error(m.name +
                    ": GCM authentication tag mismatch: the encrypted bundle was altered "
                    "or damaged",
                Exit::kVerifyFailed);
  // Anything after the ContentInfo is not part of the bundle.
  if (m.fill(1)) m.fail("data after the end of the CMS structure");
  m.eof = true;
  return 0;
}

}  // namespace forage::bundle

// MISP events read by read_json: attributes and objects, to_ids, composite types, tags.
#include <gtest/gtest.h>

#include <string>

#include "common/error.h"
#include "common/file.h"
#include "ioc/reader.h"
#include "ioc/writers.h"

namespace forage::ioc {
namespace {

std::string data_path(const std::string& name) {
  return std::string(FORAGE_TEST_DATA) + "/ioc/" + name;
}

IocSet read_misp(std::string_view text, bool keep_going = false, Format hint = Format::kJson) {
  IocSet set;
  ReadOptions opts;
  opts.keep_going = keep_going;
  Source src;
  src.file = "event.json";
  read_json(text, src, opts, set, hint);
  return set;
}

const Indicator* find(const IocSet& set, Type t, const std::string& value) {
  for (const auto& i : set.indicators)
    if (i.type == t && i.value == value) return &i;
  return nullptr;
}

bool has_note(const IocSet& set, const std::string& part) {
  for (const auto& n : set.notes)
    if (n.find(part) != std::string::npos) return true;
  return false;
}

TEST(Misp, EventAttributesAndObjects) {
  auto set = read_misp(read_file(data_path("misp_event.json")));
  EXPECT_EQ(
      to_tsv(set),
      "cidr\t185.220.101.0/24\n"
      "domain\tc2.ratatosk.example.net\n"
      "domain\tdrop.ratatosk.example.net\n"
      "domain\tpool.ratatosk.example.net\n"
      "domain\trelay.ratatosk.example.net\n"
      "email\tadmin@ratatosk.example.net\n"
      "filename\tdropper.bin\n"
      "filename\tkdevtmpfsi\n"
      "filename\tratatosk.sh\n"
      "filename\txmr64\n"
      "filepath\t/usr/lib/.ratatosk/kworker\n"
      "filepath\t/var/tmp/.ICE-unix/.r\n"
      "ipv4\t185.220.101.7\n"
      "ipv4\t192.0.2.77\n"
      "ipv4\t198.51.100.23\n"
      "ipv4\t203.0.113.200\n"
      "ipv6\t2001:db8::beef\n"
      "md5\t0cc175b9c0f1b6a831c399e269772661\n"
      "md5\t900150983cd24fb0d6963f7d28e17f72\n"
      "md5\td41d8cd98f00b204e9800998ecf8427e\n"
      "sha1\tda39a3ee5e6b4b0d3255bfef95601890afd80709\n"
      "sha256\te3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "sha512\tcf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff"
      "8318d2877eec2f63b931bd47417a81a538327af927da3e\n"
      "url\thttps://drop.ratatosk.example.net/k.sh\n"
      "username\tsshd-rt\n"
      "x509-dn\t/DC=org/DC=example/CN=robot ratatosk\n"
      "x509-dn\tCN=Evil CA, O=Ratatosk, C=XX\n");
  EXPECT_TRUE(set.errors.empty());
  EXPECT_EQ(set.case_tag, "EGI-20261120-01");
  EXPECT_EQ(set.tlp, "TLP:RED");  // one attribute is tagged tlp:red

  const Indicator* proxy = find(set, Type::kIpv4, "185.220.101.7");
  ASSERT_NE(proxy, nullptr);
  EXPECT_EQ(proxy->source.json_path, "/Event/Attribute/0/value");
  EXPECT_EQ(proxy->source.display(), "event.json#/Event/Attribute/0/value");
  EXPECT_EQ(proxy->context, "mining pool proxy");
  EXPECT_EQ(proxy->tlp, "TLP:AMBER");
  // Without a comment the event info is the context.
  EXPECT_EQ(find(set, Type::kCidr, "185.220.101.0/24")->context,
            "[EGI-20261120-01] ratatosk miner on batch workers");
  // An attribute tag overrides the event's TLP.
  EXPECT_EQ(find(set, Type::kIpv4, "203.0.113.200")->tlp, "TLP:RED");

  const Indicator* user = find(set, Type::kUsername, "sshd-rt");
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(user->source.json_path, "/Event/Object/0/Attribute/0/value");
  EXPECT_EQ(user->context, "account created by the intruder");  // the object's comment

  // to_ids false, "0"; deleted; links are references; the blog link is no indicator either.
  EXPECT_EQ(
      find(set, Type::kSha256, "0000000000000000000000000000000000000000000000000000000000000001"),
      nullptr);
  EXPECT_EQ(find(set, Type::kIpv4, "203.0.113.201"), nullptr);
  EXPECT_EQ(find(set, Type::kIpv4, "203.0.113.202"), nullptr);
  EXPECT_EQ(find(set, Type::kIpv4, "203.0.113.99"), nullptr);
  EXPECT_EQ(set.count(Type::kUrl), 1u);
  EXPECT_EQ(find(set, Type::kDomain, "blog.example.org"), nullptr);

  EXPECT_TRUE(has_note(set, "event.json: 5 MISP attribute(s) with to_ids false skipped"));
  EXPECT_TRUE(has_note(set,
                       "event.json: MISP attribute types that are no indicator here skipped: "
                       "AS (1), regkey (1), x509-fingerprint-sha1 (1)"));
  EXPECT_TRUE(has_note(set,
                       "event.json#/Event/Attribute/24/value: MISP ip-dst: '999.1.1.1' is not "
                       "a valid IP address or network (skipped)"));
}

TEST(Misp, CollectionsListsAndBareEvents) {
  const char* response = R"({"response": [
    {"Event": {"info": "one", "Tag": [{"name": "tlp:green"}],
               "Attribute": [{"type": "domain", "value": "a.example.com", "to_ids": true}]}},
    {"Event": {"info": "two EGI-20261121-07", "Tag": [{"name": "TLP:AMBER+STRICT"}],
               "Attribute": [{"type": "ip-src", "value": "192.0.2.1", "to_ids": true}]}}]})";
  auto set = read_misp(response);
  EXPECT_EQ(to_tsv(set), "domain\ta.example.com\nipv4\t192.0.2.1\n");
  EXPECT_EQ(set.tlp, "TLP:AMBER+STRICT");
  EXPECT_EQ(set.case_tag, "EGI-20261121-07");
  EXPECT_EQ(find(set, Type::kDomain, "a.example.com")->tlp, "TLP:GREEN");
  EXPECT_EQ(find(set, Type::kIpv4, "192.0.2.1")->source.json_path,
            "/response/1/Event/Attribute/0/value");

  auto list = read_misp(R"([{"Event": {"info": "x", "Attribute": [
      {"type": "sha1", "value": "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", "to_ids": true}]}}])");
  EXPECT_EQ(to_tsv(list), "sha1\tda39a3ee5e6b4b0d3255bfef95601890afd80709\n");
  EXPECT_EQ(list.indicators[0].source.json_path, "/0/Event/Attribute/0/value");

  auto bare = read_misp(R"({"info": "bare", "Attribute": [
      {"type": "email-dst", "value": "victim@example.org", "to_ids": true},
      {"type": "hostname|port", "value": "mx.evil.example.com|25", "to_ids": true}]})");
  EXPECT_EQ(to_tsv(bare), "domain\tmx.evil.example.com\nemail\tvictim@example.org\n");
  EXPECT_EQ(bare.indicators[0].source.json_path, "/Attribute/0/value");

  auto tags = read_misp(R"({"Event": {"info": "x", "EventTag": [{"Tag": {"name": "tlp:white"}}],
      "Attribute": [{"type": "ip-dst", "value": "192.0.2.9", "to_ids": true,
                     "AttributeTag": [{"Tag": {"name": "tlp:amber"}}]}]}})");
  EXPECT_EQ(tags.tlp, "TLP:AMBER");
  EXPECT_EQ(tags.indicators.at(0).tlp, "TLP:AMBER");
}

TEST(Misp, WrongShapesAreProblemsAndTheRestIsRead) {
  const char* bad = R"({"response": [
    {"Event": "not an object"},
    {"Event": {"info": "x", "Attribute": 5}},
    {"Event": {"info": "y", "Attribute": [
       "a string",
       {"type": "ip-dst", "value": 3232235777, "to_ids": true},
       {"value": "192.0.2.5", "to_ids": true},
       {"type": "ip-dst", "value": "192.0.2.6", "to_ids": true}],
     "Object": [{"name": "file", "Attribute": {"type": "md5"}}, 7]}},
    {"NotAnEvent": {}}]})";
  EXPECT_THROW(read_misp(bad), Error);
  auto set = read_misp(bad, /*keep_going=*/true);
  EXPECT_EQ(to_tsv(set), "ipv4\t192.0.2.6\n");
  ASSERT_EQ(set.errors.size(), 8u);
  EXPECT_EQ(set.errors[0], "event.json#/response/0/Event: a MISP event must be an object");
  EXPECT_EQ(set.errors[1],
            "event.json#/response/1/Event/Attribute: expected an array of attributes");
  EXPECT_EQ(set.errors[2],
            "event.json#/response/2/Event/Attribute/0: a MISP attribute must be an object");
  EXPECT_EQ(
      set.errors[3],
      "event.json#/response/2/Event/Attribute/1/value: a MISP attribute value must be a string");
  EXPECT_EQ(
      set.errors[4],
      "event.json#/response/2/Event/Attribute/2/type: a MISP attribute needs a string \"type\"");
  EXPECT_EQ(set.errors[5],
            "event.json#/response/2/Event/Object/0/Attribute: expected an array of attributes");
  EXPECT_EQ(set.errors[6],
            "event.json#/response/2/Event/Object/1: a MISP object must be an object");
  EXPECT_EQ(set.errors[7], "event.json#/response/3: expected an object with an \"Event\"");
}

TEST(Misp, UnknownTypeNoteIsBounded) {
  std::string event = R"({"Event": {"info": "x", "Attribute": [)";
  for (int i = 0; i < 100; ++i)
    event +=
        std::string(i ? "," : "") + R"({"type": "t)" + std::to_string(i) + R"(", "value": "v"})";
  event += "]}}";
  auto set = read_misp(event);
  ASSERT_EQ(set.notes.size(), 1u);
  EXPECT_NE(set.notes[0].find("(other types) (80)"), std::string::npos) << set.notes[0];
  EXPECT_LT(set.notes[0].size(), 600u);
}

TEST(Misp, ForcedMispFormatOnOtherJson) {
  auto set = read_misp(R"({"type": "bundle", "objects": []})", true, Format::kMisp);
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0], "event.json: not a MISP event (no \"Event\" or \"response\")");
}

}  // namespace
}  // namespace forage::ioc

// Every valid frame cut at every byte offset: the frame decoder must ask for more, the
// payload decoders must refuse the cut unless it falls between two items. Each cut is
// copied into a heap block of exactly its size, so the ASan build catches any read past
// the end.

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include "spop/spop.hpp"
#include "wire.hpp"

namespace spop {
namespace {

using namespace std::string_view_literals;
using test::Bytes;

enum class Kind { haproxy_hello, agent_hello, disconnect, notify, ack, fragment };

struct Case {
  std::string name;
  Bytes frame;
  Kind kind;
};

// The frame an encoder wrote into out; out by reference so it is read after encoding.
Bytes finish(const Bytes& out, EncodeResult r) {
  EXPECT_EQ(r.error, Error::none);
  return Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(r.size));
}

std::vector<Case> valid_frames() {
  std::vector<Case> cases;
  cases.push_back({"notify_example", test::notify_example(), Kind::notify});
  cases.push_back({"ack_example", test::ack_example(), Kind::ack});
  cases.push_back({"agent_hello_example", test::agent_hello_example(), Kind::agent_hello});
  cases.push_back({"healthcheck_hello", test::healthcheck_hello(), Kind::haproxy_hello});
  {
    HelloOptions o;
    o.engine_id = "0b8f5c3e-1f1f-4c3a-9d7e-52f1d1a4c001";
    Bytes out(256);
    cases.push_back(
        {"haproxy_hello", finish(out, encode_haproxy_hello(out, o)), Kind::haproxy_hello});
  }
  {
    Bytes out(256);
    cases.push_back({"agent_disconnect",
                     finish(out, encode_agent_disconnect(out, 16380, Status::timeout, "idle")),
                     Kind::disconnect});
    cases.push_back({"haproxy_disconnect",
                     finish(out, encode_haproxy_disconnect(out, Status::normal, "")),
                     Kind::disconnect});
  }
  {
    Bytes out(512);
    NotifyWriter w(out, 1234567, 3);
    w.add_message("all-types", 10);
    w.add_arg("null", Value::null());
    w.add_arg("bool", Value::boolean(true));
    w.add_arg("i32", Value::int32(-2147483647 - 1));
    w.add_arg("u32", Value::uint32(4294967295u));
    w.add_arg("i64", Value::int64(-1));
    w.add_arg("u64", Value::uint64(18446744073709551615u));
    w.add_arg("ip", Value::ipv4("\x0a\x00\x00\x01"sv));
    w.add_arg("ip6", Value::ipv6("\xfe\x80\0\0\0\0\0\0\0\0\0\0\0\0\0\x01"sv));
    w.add_arg("", Value::string("/index.html"));
    w.add_arg("body", Value::binary("\x00\xff\x00"sv));
    w.add_message("no-args", 0);
    w.add_message("last", 1);
    w.add_arg("x", Value::boolean(false));
    cases.push_back({"notify_all_types", finish(out, w.finish()), Kind::notify});
  }
  {
    Bytes out(256);
    AckWriter w(out, 16380, 1234567, 3);
    w.set_var(Scope::txn, "verdict", Value::string("block"));
    w.unset_var(Scope::sess, "old");
    w.set_var(Scope::req, "score", Value::int64(-3));
    cases.push_back({"ack_three_actions", finish(out, w.finish()), Kind::ack});
  }
  {
    Bytes out(64);
    cases.push_back({"fragment_continuation",
                     finish(out, encode_frame(out, FrameType::unset, flag_fin, 9, 1,
                                              test::span_of("\x03xyz\x01"sv))),
                     Kind::fragment});
  }
  return cases;
}

// Offsets at which a payload of this kind may end: before the first item and after each.
std::set<size_t> item_boundaries(Kind kind, std::span<const uint8_t> payload) {
  std::set<size_t> ends{0};
  Reader r(payload);
  while (!r.empty()) {
    std::string_view name;
    Value v;
    uint8_t u8 = 0;
    switch (kind) {
      case Kind::haproxy_hello:
      case Kind::agent_hello:
      case Kind::disconnect:
        EXPECT_EQ(r.read_name(name), Error::none);
        EXPECT_EQ(r.read_value(v), Error::none);
        break;
      case Kind::notify:
        EXPECT_EQ(r.read_name(name), Error::none);
        EXPECT_EQ(r.read_u8(u8), Error::none);
        for (unsigned i = u8; i > 0; --i) {
          EXPECT_EQ(r.read_name(name), Error::none);
          EXPECT_EQ(r.read_value(v), Error::none);
        }
        break;
      case Kind::ack: {
        uint8_t type = 0;
        EXPECT_EQ(r.read_u8(type), Error::none);
        EXPECT_EQ(r.read_u8(u8), Error::none);
        EXPECT_EQ(r.read_u8(u8), Error::none);
        EXPECT_EQ(r.read_name(name), Error::none);
        if (type == 1) {
          EXPECT_EQ(r.read_value(v), Error::none);
        }
        break;
      }
      case Kind::fragment:
        return {};
    }
    ends.insert(static_cast<size_t>(r.position() - payload.data()));
  }
  return ends;
}

// Runs every payload decoder; returns the error of the one that matches `kind`.
Error decode_payload(Kind kind, std::span<const uint8_t> payload) {
  HaproxyHello hh;
  AgentHello ah;
  Disconnect d;
  NotifyDecoder n;
  std::vector<Action> actions;
  const Error errors[] = {decode_haproxy_hello(payload, hh), decode_agent_hello(payload, ah),
                          decode_disconnect(payload, d), n.decode(payload),
                          decode_ack(payload, actions)};
  switch (kind) {
    case Kind::haproxy_hello:
      return errors[0];
    case Kind::agent_hello:
      return errors[1];
    case Kind::disconnect:
      return errors[2];
    case Kind::notify:
      return errors[3];
    case Kind::ack:
      return errors[4];
    case Kind::fragment:
      break;
  }
  return Error::none;
}

class CutFrame : public testing::TestWithParam<Case> {};

TEST_P(CutFrame, EveryPrefixOfTheFrameNeedsMore) {
  const Bytes& frame = GetParam().frame;
  ASSERT_EQ(decode_frame(frame, default_max_frame_size).error, Error::none);
  for (size_t cut = 0; cut < frame.size(); ++cut) {
    const auto block = std::make_unique<uint8_t[]>(cut);
    std::copy_n(frame.begin(), cut, block.get());
    EXPECT_EQ(decode_frame({block.get(), cut}, default_max_frame_size).error, Error::need_more)
        << "cut at " << cut;
  }
}

TEST_P(CutFrame, EveryCutOfThePayloadIsRefusedUnlessBetweenItems) {
  const FrameResult f = decode_frame(GetParam().frame, default_max_frame_size);
  ASSERT_EQ(f.error, Error::none);
  const std::span<const uint8_t> payload = f.frame.payload;
  const Kind kind = GetParam().kind;
  ASSERT_EQ(decode_payload(kind, payload), Error::none);
  const std::set<size_t> ends = item_boundaries(kind, payload);
  for (size_t cut = 0; cut < payload.size(); ++cut) {
    const auto block = std::make_unique<uint8_t[]>(cut);
    std::copy_n(payload.begin(), cut, block.get());
    const Error e = decode_payload(kind, {block.get(), cut});
    if (kind == Kind::fragment) continue;
    if (ends.contains(cut)) {
      EXPECT_EQ(e, Error::none) << "cut at item boundary " << cut;
    } else {
      EXPECT_NE(e, Error::none) << "cut at " << cut;
      EXPECT_EQ(status_of(e), Status::invalid_frame) << "cut at " << cut;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Spop, CutFrame, testing::ValuesIn(valid_frames()),
                         [](const testing::TestParamInfo<Case>& p) { return p.param.name; });

}  // namespace
}  // namespace spop

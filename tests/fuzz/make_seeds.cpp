// Writes the seed corpus of spop_fuzz: a handful of valid frames and frame sequences, made
// with the codec's own encoders. Run once and commit the output:
//   spop_fuzz_seeds tests/fuzz/corpus

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "spop/spop.hpp"

namespace {

using namespace spop;
using namespace std::string_view_literals;
using Bytes = std::vector<uint8_t>;

Bytes take(Bytes out, EncodeResult r) {
  if (r.error != Error::none) {
    std::fprintf(stderr, "encode failed: %.*s\n", static_cast<int>(describe(r.error).size()),
                 describe(r.error).data());
    std::exit(1);
  }
  out.resize(r.size);
  return out;
}

Bytes haproxy_hello(bool healthcheck) {
  HelloOptions o;
  if (healthcheck) {
    o.capabilities = "";
    o.healthcheck = true;
  } else {
    o.engine_id = "0b8f5c3e-1f1f-4c3a-9d7e-52f1d1a4c001";
  }
  Bytes out(512);
  const EncodeResult r = encode_haproxy_hello(out, o);
  return take(std::move(out), r);
}

Bytes notify_all_types(uint64_t sid, uint64_t fid) {
  Bytes out(1024);
  NotifyWriter w(out, sid, fid);
  w.add_message("check-request", 10);
  w.add_arg("null", Value::null());
  w.add_arg("bool", Value::boolean(true));
  w.add_arg("i32", Value::int32(-2147483647 - 1));
  w.add_arg("u32", Value::uint32(4294967295u));
  w.add_arg("i64", Value::int64(-1));
  w.add_arg("u64", Value::uint64(18446744073709551615u));
  w.add_arg("ip", Value::ipv4("\xc0\xa8\x00\x01"sv));
  w.add_arg("ip6", Value::ipv6("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"sv));
  w.add_arg("path", Value::string("/some/path/index.html"));
  w.add_arg("hdrs", Value::binary("\x04host\x0bexample.com\x00\x00"sv));
  w.add_message("no-args", 0);
  w.add_message("unnamed", 2);
  w.add_arg("", Value::boolean(false));
  w.add_arg("", Value::int64(16380));
  const EncodeResult r = w.finish();
  return take(std::move(out), r);
}

Bytes notify_example() {
  Bytes out(64);
  NotifyWriter w(out, 5, 1);
  w.add_message("check-ip", 1);
  w.add_arg("ip", Value::ipv4("\xc0\xa8\x00\x01"sv));
  const EncodeResult r = w.finish();
  return take(std::move(out), r);
}

Bytes raw_frame(FrameType type, uint32_t flags, uint64_t sid, uint64_t fid,
                std::span<const uint8_t> payload) {
  Bytes out(payload.size() + max_frame_header_size);
  const EncodeResult r = encode_frame(out, type, flags, sid, fid, payload);
  return take(std::move(out), r);
}

// A NOTIFY cut in three (spop.md §6): type 3 without FIN, then UNSET continuations, the
// last with FIN; the cut falls inside a string.
Bytes fragmented_notify() {
  const Bytes whole = notify_all_types(7, 1);
  const FrameResult f = decode_frame(whole, 0xFFFFFFFF);
  const std::span<const uint8_t> p = f.frame.payload;
  const size_t a = p.size() / 3;
  const size_t b = 2 * p.size() / 3;
  Bytes out = raw_frame(FrameType::notify, 0, 7, 1, p.first(a));
  for (const Bytes& part : {raw_frame(FrameType::unset, 0, 7, 1, p.subspan(a, b - a)),
                            raw_frame(FrameType::unset, flag_fin, 7, 1, p.subspan(b))}) {
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

Bytes aborted_fragment() {
  Bytes out = raw_frame(FrameType::notify, 0, 8, 1, Bytes{0x03, 'a', 'b', 'c', 0x00});
  const Bytes abort = raw_frame(FrameType::unset, flag_fin | flag_abort, 8, 1, {});
  out.insert(out.end(), abort.begin(), abort.end());
  return out;
}

Bytes ack() {
  Bytes out(256);
  AckWriter w(out, 16380, 5, 1);
  w.set_var(Scope::txn, "verdict", Value::string("block"));
  w.set_var(Scope::sess, "score", Value::uint32(42));
  w.unset_var(Scope::req, "old");
  w.set_var(Scope::res, "ip", Value::ipv6("\0\0\0\0\0\0\0\0\0\0\xff\xff\x7f\0\0\x01"sv));
  const EncodeResult r = w.finish();
  return take(std::move(out), r);
}

Bytes agent_hello() {
  Bytes out(128);
  const EncodeResult r = encode_agent_hello(out, 16380, "2.0", 16380, "pipelining");
  return take(std::move(out), r);
}

Bytes haproxy_disconnect() {
  Bytes out(128);
  const EncodeResult r = encode_haproxy_disconnect(out, Status::timeout, "idle timeout");
  return take(std::move(out), r);
}

Bytes agent_disconnect() {
  Bytes out(128);
  const EncodeResult r = encode_agent_disconnect(out, 16380, Status::normal, "shutting down");
  return take(std::move(out), r);
}

// What a connection reads: HELLO, pipelined NOTIFYs, a fragment sequence, DISCONNECT.
Bytes session() {
  Bytes out;
  for (const Bytes& part : {haproxy_hello(false), notify_example(), notify_all_types(0, 1),
                            notify_all_types(9, 2), fragmented_notify(), haproxy_disconnect()}) {
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir(argv[1]);
  std::filesystem::create_directories(dir);
  const std::pair<const char*, Bytes> seeds[] = {
      {"haproxy_hello", haproxy_hello(false)},
      {"haproxy_hello_healthcheck", haproxy_hello(true)},
      {"notify_example", notify_example()},
      {"notify_all_types", notify_all_types(1234567, 3)},
      {"notify_fragmented", fragmented_notify()},
      {"notify_fragment_aborted", aborted_fragment()},
      {"ack", ack()},
      {"agent_hello", agent_hello()},
      {"haproxy_disconnect", haproxy_disconnect()},
      {"agent_disconnect", agent_disconnect()},
      {"session", session()},
  };
  for (const auto& [name, bytes] : seeds) {
    std::ofstream out(dir / (std::string(name) + ".bin"), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::fprintf(stderr, "%s: write failed\n", name);
      return 1;
    }
  }
  std::printf("wrote %zu seeds to %s\n", std::size(seeds), dir.c_str());
  return 0;
}

#include <gtest/gtest.h>

#include "iprep_config.hpp"

namespace spoa::iprep {
namespace {

using Entries = std::vector<std::pair<std::string_view, std::string_view>>;

std::string error_of(const Entries& e) {
  try {
    parse_iprep_config(e);
  } catch (const spoa::Error& x) {
    return x.what();
  }
  return "";
}

TEST(IprepConfig, FullConfig) {
  const auto c = parse_iprep_config({{"scope", "sess"},
                                     {"forwarded_header", "x-forwarded-for"},
                                     {"trusted_proxies", "10.0.0.0/8, 127.0.0.2"},
                                     {"hop_limit", "3"},
                                     {"sources.fh.type", "netset"},
                                     {"sources.fh.path", "/var/lib/iprep/fh.netset"},
                                     {"sources.ok.type", "list"},
                                     {"sources.ok.path", "ok.txt"},
                                     {"sources.ok.action", "allow"},
                                     {"sources.cs.type", "crowdsec"},
                                     {"sources.cs.url", "http://127.0.0.1:8080/"},
                                     {"sources.cs.api_key", "k"},
                                     {"sources.cs.poll_interval", "2s"},
                                     {"sources.cs.decision_types", "ban,captcha"}});
  EXPECT_EQ(c.scope, spoa::Scope::sess);
  EXPECT_EQ(c.client.policy.hop_limit, 3u);
  EXPECT_EQ(c.client.policy.trusted_proxies.prefixes().size(), 2u);
  ASSERT_EQ(c.sources.size(), 3u);
  EXPECT_EQ(c.sources[0].name, "cs");
  EXPECT_EQ(c.sources[0].poll_interval, std::chrono::seconds(2));
  EXPECT_EQ(c.sources[0].decision_types, (std::set<std::string>{"ban", "captcha"}));
  EXPECT_EQ(c.sources[1].name, "fh");
  EXPECT_EQ(c.sources[1].label, "fh");
  EXPECT_EQ(c.sources[2].action, "allow");
}

TEST(IprepConfig, ErrorsNameTheKey) {
  EXPECT_EQ(error_of({}),
            "no source: add a [plugins.NAME.config.sources.<name>] table with a type");
  EXPECT_EQ(error_of({{"sources.a.type", "json"}, {"sources.a.path", "x"}}),
            "config key 'sources.a.type': 'json' is not one of list, netset, ipset, csv, crowdsec");
  EXPECT_EQ(error_of({{"sources.a.type", "list"}}),
            "config key 'sources.a.path': missing (the list file)");
  EXPECT_NE(error_of({{"sources.a.type", "list"}, {"sources.a.path", "x"}, {"sources.a.url", "u"}})
                .find("config key 'sources.a.url': unknown key for a list source"),
            std::string::npos);
  EXPECT_NE(error_of({{"sources.a.type", "list"}, {"sources.a.path", "x"}, {"colour", "red"}})
                .find("config key 'colour': unknown key"),
            std::string::npos);
  EXPECT_EQ(error_of({{"sources.a.type", "crowdsec"}, {"sources.a.url", "http://x/"}}),
            "config key 'sources.a.api_key': missing (cscli bouncers add NAME prints one)");
  EXPECT_EQ(
      error_of({{"forwarded_header", "x-forwarded-for"},
                {"sources.a.type", "list"},
                {"sources.a.path", "x"}}),
      "config key 'trusted_proxies': forwarded_header is set but no proxy is trusted to send it");
  EXPECT_EQ(error_of({{"hop_limit", "0"}, {"sources.a.type", "list"}, {"sources.a.path", "x"}}),
            "config key 'hop_limit': '0' is not a number from 1 to 64");
  EXPECT_EQ(error_of({{"sources.a b.type", "list"}}),
            "config key 'sources.a b.type': source name 'a b' is not 1 to 63 of [A-Za-z0-9_-]");
}

}  // namespace
}  // namespace spoa::iprep

// tracking_table: what each tracking mode sends, to whom, and what the table
// forgets afterwards.
#include <boost/test/unit_test.hpp>
#include <map>
#include <memory>
#include <string>

#include "server/outbox.hpp"
#include "server/tracking_table.hpp"

namespace {

using shrike::server::client_state;
using shrike::server::outbox;
using shrike::server::output_limit;
using shrike::server::tracking_mode;
using shrike::server::tracking_table;

// Clients with outboxes and a table that finds them by id.
struct fixture {
  output_limit limits[3];
  std::map<std::uint64_t, std::shared_ptr<client_state>> clients;
  int broadcasts_due = 0;
  tracking_table table{[this](std::uint64_t id) {
    auto it = clients.find(id);
    return it == clients.end() ? nullptr : it->second;
  }};

  fixture() {
    table.on_broadcast_due([this] { ++broadcasts_due; });
  }

  std::shared_ptr<client_state> add(std::uint64_t id, int resp) {
    auto c = std::make_shared<client_state>();
    c->id = id;
    c->resp = resp;
    c->box = std::make_shared<outbox>(limits, [] {}, [] {});
    c->box->resp = resp;
    clients[id] = c;
    return c;
  }

  static std::string taken(client_state& c) {
    std::string out;
    c.box->take(out);
    return out;
  }
};

const std::string push_k = ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n";

}  // namespace

BOOST_FIXTURE_TEST_SUITE(tracking_table_suite, fixture)

BOOST_AUTO_TEST_CASE(a_remembered_key_is_invalidated_once) {
  auto reader = add(3, 3);
  table.enable(reader, tracking_mode{});
  BOOST_TEST(table.active());
  table.remember(*reader, {"k", "other"});
  BOOST_TEST(table.total_keys() == 2u);
  BOOST_TEST(table.total_items() == 2u);
  table.invalidate("k", nullptr);
  BOOST_TEST(taken(*reader) == push_k);
  BOOST_TEST(table.total_keys() == 1u);
  table.invalidate("k", nullptr);  // forgotten: nothing more
  BOOST_TEST(taken(*reader).empty());
}

BOOST_AUTO_TEST_CASE(own_writes_wait_for_the_reply_and_noloop_skips_them) {
  auto c = add(3, 3);
  table.enable(c, tracking_mode{});
  table.remember(*c, {"k"});
  table.invalidate("k", c.get());
  BOOST_TEST(taken(*c).empty());
  BOOST_TEST(c->tracking_pending == push_k);
  c->tracking_pending.clear();

  tracking_mode noloop;
  noloop.noloop = true;
  table.enable(c, noloop);
  table.remember(*c, {"k"});
  table.invalidate("k", c.get());
  BOOST_TEST(c->tracking_pending.empty());
  BOOST_TEST(table.total_keys() == 0u);  // forgotten all the same
}

BOOST_AUTO_TEST_CASE(optin_and_optout_follow_client_caching) {
  auto c = add(3, 3);
  tracking_mode optin;
  optin.optin = true;
  table.enable(c, optin);
  table.remember(*c, {"a"});
  BOOST_TEST(table.total_keys() == 0u);
  c->tracking_caching = true;  // CLIENT CACHING YES
  table.remember(*c, {"a"});
  BOOST_TEST(table.total_keys() == 1u);

  table.disable(*c);
  BOOST_TEST(!c->tracking_caching);
  tracking_mode optout;
  optout.optout = true;
  table.enable(c, optout);
  table.remember(*c, {"b"});
  BOOST_TEST(table.total_keys() == 2u);
  c->tracking_caching = true;  // CLIENT CACHING NO
  table.remember(*c, {"c"});
  BOOST_TEST(table.total_keys() == 2u);
}

BOOST_AUTO_TEST_CASE(redirects_reach_a_resp2_subscriber_or_report_a_broken_target) {
  auto tracker = add(3, 3);
  auto sub = add(4, 2);
  auto quiet = add(5, 2);  // RESP2, not subscribed
  tracking_mode to_sub;
  to_sub.redirect = 4;
  table.enable(tracker, to_sub);
  table.remember(*tracker, {"k"});
  table.invalidate("k", nullptr);
  BOOST_TEST(taken(*sub).empty());  // not subscribed: nowhere to put it

  sub->sub_count = 1;
  table.remember(*tracker, {"k"});
  table.invalidate("k", nullptr);
  BOOST_TEST(taken(*sub) == "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nk\r\n");

  clients.erase(4);  // the target disconnects
  table.remember(*tracker, {"k"});
  table.invalidate("k", nullptr);
  BOOST_TEST(tracker->tracking_broken.load());
  BOOST_TEST(taken(*tracker) == ">2\r\n$21\r\ntracking-redir-broken\r\n:4\r\n");

  // A RESP2 client without a redirect hears nothing.
  table.enable(quiet, tracking_mode{});
  table.remember(*quiet, {"q"});
  table.invalidate("q", nullptr);
  BOOST_TEST(taken(*quiet).empty());
}

BOOST_AUTO_TEST_CASE(bcast_batches_changes_per_prefix) {
  auto c = add(3, 3);
  auto loop = add(4, 3);
  tracking_mode bcast;
  bcast.bcast = true;
  bcast.prefixes = {"p:", "q"};
  BOOST_TEST(table.check(3, bcast).empty());
  table.enable(c, bcast);
  tracking_mode overlapping = bcast;
  overlapping.prefixes = {"p"};
  BOOST_TEST(table.check(3, overlapping) ==
             "Prefix 'p' overlaps with an existing prefix 'p:'. Prefixes for a single client must not overlap.");
  tracking_mode plain;
  BOOST_TEST(table.check(3, plain).find("BCAST mode on/off") != std::string::npos);
  BOOST_TEST(table.total_prefixes() == 2u);

  tracking_mode noloop_all;
  noloop_all.bcast = noloop_all.noloop = true;  // no PREFIX: every key
  table.enable(loop, noloop_all);
  BOOST_TEST(table.total_prefixes() == 3u);

  table.invalidate("p:2", loop.get());
  table.invalidate("p:1", nullptr);
  table.invalidate("x", nullptr);
  BOOST_TEST(broadcasts_due == 1);  // one wake-up for the whole batch
  BOOST_TEST(table.broadcast());
  BOOST_TEST(taken(*c) == ">2\r\n$10\r\ninvalidate\r\n*2\r\n$3\r\np:1\r\n$3\r\np:2\r\n");
  // NOLOOP leaves out p:2, which it changed itself.
  BOOST_TEST(taken(*loop) == ">2\r\n$10\r\ninvalidate\r\n*2\r\n$3\r\np:1\r\n$1\r\nx\r\n");
  BOOST_TEST(!table.broadcast());

  table.disable(*c);
  table.disable(*loop);
  BOOST_TEST(table.total_prefixes() == 0u);
  BOOST_TEST(!table.active());
}

BOOST_AUTO_TEST_CASE(flush_sends_a_null_and_forgets_everything) {
  auto r3 = add(3, 3);
  auto r2 = add(4, 2);
  auto sub = add(5, 2);
  sub->sub_count = 1;
  table.enable(r3, tracking_mode{});
  tracking_mode to_sub;
  to_sub.redirect = 5;
  table.enable(r2, to_sub);
  table.remember(*r3, {"a", "b"});
  table.invalidate_all(nullptr);
  BOOST_TEST(taken(*r3) == ">2\r\n$10\r\ninvalidate\r\n_\r\n");
  BOOST_TEST(taken(*sub) == "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n");
  BOOST_TEST(table.total_keys() == 0u);
  BOOST_TEST(table.total_items() == 0u);
}

BOOST_AUTO_TEST_CASE(the_key_limit_invalidates_the_excess) {
  auto c = add(3, 3);
  table.enable(c, tracking_mode{});
  table.set_max_keys(2);
  table.remember(*c, {"a", "b", "c"});
  BOOST_TEST(table.total_keys() == 2u);
  // The evicted key was invalidated: exactly one push.
  const std::string out = taken(*c);
  BOOST_TEST(out.rfind(">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\n", 0) == 0u);
  BOOST_TEST(out.size() == push_k.size());
}

BOOST_AUTO_TEST_SUITE_END()

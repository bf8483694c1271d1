#pragma once
// What a command hands to replication instead of its own arguments
// ("propagate effects, not requests"): SET .. EX becomes SET .. PXAT, a
// blocking pop becomes the pop it made, SPOP the SREM of what it removed.
// A command that records nothing propagates its arguments as received (if
// it writes); one that marks `replaced` and records nothing propagates
// nothing.
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shrike::replication {

struct effects {
  bool replaced = false;
  // (db, argv) in the order they happened.
  std::vector<std::pair<std::size_t, std::vector<std::string>>> commands;

  void add(std::size_t db, std::initializer_list<std::string_view> argv) {
    replaced = true;
    commands.emplace_back(db, std::vector<std::string>(argv.begin(), argv.end()));
  }
  void add(std::size_t db, std::vector<std::string> argv) {
    replaced = true;
    commands.emplace_back(db, std::move(argv));
  }
  void clear() {
    replaced = false;
    commands.clear();
  }
};

}  // namespace shrike::replication

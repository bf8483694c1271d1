#pragma once
// A list value: a deque of strings (O(1) at both ends and by index).
// OBJECT ENCODING says "quicklist", the only list encoding of Redis 7.0.
#include <deque>
#include <string>

#include "store/entry.hpp"

namespace shrike::store {

class list_value final : public value_object {
 public:
  std::deque<std::string> items;

  std::size_t memory_usage(std::size_t samples) const override;
  value_object* clone() const override { return new list_value(*this); }
  const char* encoding_name() const override { return "quicklist"; }
};

inline list_value* as_list(const entry* e) { return static_cast<list_value*>(e->object()); }

}  // namespace shrike::store

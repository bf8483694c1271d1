#include "store/list_value.hpp"

namespace shrike::store {

std::size_t list_value::memory_usage(std::size_t samples) const {
  // Element bytes are estimated from the first `samples` elements.
  std::size_t n = items.size(), seen = 0, bytes = 0;
  for (const auto& s : items) {
    if (seen == samples) break;
    bytes += sizeof(std::string) + (s.capacity() > 15 ? s.capacity() + 1 : 0);
    ++seen;
  }
  std::size_t per = seen ? bytes / seen : sizeof(std::string);
  return sizeof(*this) + n * per;
}

}  // namespace shrike::store

#include "replication/backlog.hpp"

#include <algorithm>
#include <cstring>

namespace shrike::replication {

backlog::backlog(std::size_t capacity, std::uint64_t next_offset) : buf_(std::max<std::size_t>(capacity, 1)), next_(next_offset) {}

void backlog::append(std::string_view bytes) {
  next_ += bytes.size();
  const std::size_t cap = buf_.size();
  if (bytes.size() >= cap) {  // only the tail survives
    std::memcpy(buf_.data(), bytes.data() + bytes.size() - cap, cap);
    head_ = 0;
    len_ = cap;
    return;
  }
  const std::size_t first = std::min(bytes.size(), cap - head_);
  std::memcpy(buf_.data() + head_, bytes.data(), first);
  std::memcpy(buf_.data(), bytes.data() + first, bytes.size() - first);
  head_ = (head_ + bytes.size()) % cap;
  len_ = std::min(cap, len_ + bytes.size());
}

void backlog::resize(std::size_t capacity) {
  capacity = std::max<std::size_t>(capacity, 1);
  if (capacity == buf_.size()) return;
  std::string kept;
  const std::size_t keep = std::min(len_, capacity);
  copy_from(next_ - keep, kept);
  buf_.assign(capacity, 0);
  head_ = 0;
  len_ = 0;
  const std::uint64_t next = next_;
  next_ -= keep;
  append(kept);
  next_ = next;
}

void backlog::copy_from(std::uint64_t offset, std::string& out) const {
  const std::size_t n = static_cast<std::size_t>(next_ - offset);
  if (n == 0) return;
  const std::size_t cap = buf_.size();
  const std::size_t start = (head_ + cap - n) % cap;
  const std::size_t first = std::min(n, cap - start);
  out.append(buf_.data() + start, first);
  out.append(buf_.data(), n - first);
}

}  // namespace shrike::replication

#pragma once
// The replication backlog: the last `capacity` bytes of the replication
// stream, kept so that a replica that lost its link can continue from its
// offset (PSYNC +CONTINUE) instead of loading a whole RDB again.
//
// Offsets are Redis's: the stream's bytes are numbered from 1, and the
// backlog holds bytes [first_offset(), first_offset() + size()).
// Not synchronized: the owner (replication_state) guards it.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shrike::replication {

class backlog {
 public:
  // `next_offset`: the offset the next appended byte gets.
  backlog(std::size_t capacity, std::uint64_t next_offset);

  void append(std::string_view bytes);
  // Keeps the newest bytes that fit the new capacity.
  void resize(std::size_t capacity);

  std::size_t capacity() const { return buf_.size(); }
  std::size_t size() const { return len_; }
  std::uint64_t first_offset() const { return next_ - len_; }
  std::uint64_t next_offset() const { return next_; }

  // Whether a replica that needs the bytes from `offset` on can get them
  // here (the byte at `offset` is held, or `offset` is the next byte).
  bool covers(std::uint64_t offset) const { return offset >= first_offset() && offset <= next_; }
  // Appends the bytes from `offset` to the end to `out` (covers() must hold).
  void copy_from(std::uint64_t offset, std::string& out) const;

 private:
  std::vector<char> buf_;
  std::size_t head_ = 0;  // where the next byte goes
  std::size_t len_ = 0;   // bytes held
  std::uint64_t next_;
};

}  // namespace shrike::replication

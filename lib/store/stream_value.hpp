#pragma once
// Stream values (Redis 7.0 t_stream.c semantics, our own layout).
//
// Entries live in chunks, each one contiguous byte buffer:
//
//   entry := [flags 1 B][ms - base.ms varint][seq varint][pair count varint]
//            ([len varint][bytes])*
//
// so a small entry costs ~10 bytes and there is no allocation per entry. A
// chunk is Redis's listpack node: a new one starts by Redis's rule
// (stream-node-max-entries entries, deleted ones included, or about
// stream-node-max-bytes), and an RDB file's nodes load as chunks, which keeps
// `MAXLEN ~`/`MINID ~` trimming (whole chunks only) byte-equal with Redis.
// Deleted entries stay as tombstones (flag bit) until their chunk empties.
//
// Consumer groups keep their pending entries in ordered maps; the group PEL
// owns the delivery data and each consumer's PEL only lists ids. Invariant:
// an id is in a consumer's PEL iff it is in the group PEL with that owner.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/entry.hpp"

namespace shrike::store {

// One varint of a chunk's entry encoding (above), advancing `p`; for readers
// of the raw chunk bytes such as the RDB writer.
std::uint64_t read_chunk_varint(const char*& p);

struct stream_id {
  std::uint64_t ms = 0;
  std::uint64_t seq = 0;
  auto operator<=>(const stream_id&) const = default;

  std::string str() const;
  bool is_zero() const { return ms == 0 && seq == 0; }
  // streamIncrID / streamDecrID: false on overflow (the id is left wrapped).
  bool incr();
  bool decr();
  static constexpr stream_id max() { return {UINT64_MAX, UINT64_MAX}; }
};

// streamGenericParseIDOrReply: "<ms>[-<seq>]", "-", "+" (unless strict),
// "<ms>-*" when seq_given is non-null (then *seq_given = false).
bool parse_stream_id(std::string_view s, stream_id& id, std::uint64_t missing_seq, bool strict, bool* seq_given);

struct stream_chunk {
  stream_id base;        // the first id ever appended (deltas are from it)
  stream_id last;        // the last id appended
  std::uint32_t total = 0;  // entries including tombstones
  std::uint32_t live = 0;
  std::string buf;
};

struct stream_consumer;

struct stream_nack {
  std::int64_t delivery_time = 0;
  std::uint64_t delivery_count = 1;
  stream_consumer* owner = nullptr;
};

struct stream_consumer {
  std::string name;
  std::int64_t seen_time = 0;
  std::set<stream_id> pel;
};

struct stream_group {
  using pending_map = std::map<stream_id, stream_nack>;

  stream_id last_id;
  std::int64_t entries_read = -1;  // -1: unknown (SCG_INVALID_ENTRIES_READ)
  pending_map pel;
  std::map<std::string, stream_consumer, std::less<>> consumers;

  stream_consumer* find_consumer(std::string_view name);
  stream_consumer& create_consumer(std::string_view name, std::int64_t now_ms);  // must not exist
  std::size_t delete_consumer(std::string_view name);  // returns its pending count
  // streamLookupConsumer + streamCreateConsumer: the consumer, created when
  // missing; either way it was seen now.
  stream_consumer& touch_consumer(std::string_view name, std::int64_t now_ms);

  // XREADGROUP hands `id` to `c`: a new pending entry, or (after XGROUP SETID
  // moved the group back) the existing one moved to `c`, delivered once, now.
  stream_nack& deliver(const stream_id& id, stream_consumer& c, std::int64_t now_ms);
  // XCLAIM FORCE: a pending entry for `id` with no owner yet (the caller
  // hands it over with transfer()); the existing one when there is one.
  pending_map::iterator add_unowned(const stream_id& id, std::int64_t now_ms);
  // Moves a pending entry to `c`'s PEL (nothing when `c` owns it already).
  void transfer(pending_map::iterator it, stream_consumer& c);
  // Drops a pending entry from the group and from its owner; returns the next.
  pending_map::iterator remove_pending(pending_map::iterator it);
};

// Trimming request of XADD/XTRIM (streamAddTrimArgs).
struct stream_trim_args {
  enum class strategy : std::uint8_t { none, maxlen, minid };
  strategy how = strategy::none;
  bool approx = false;
  std::int64_t maxlen = 0;
  stream_id minid;
  std::int64_t limit = 0;  // 0 = unlimited
};

// When an appended entry starts a new chunk: Redis's rule for starting a
// listpack node (streamAppendItem), from stream-node-max-entries (0: no
// limit) and stream-node-max-bytes (0: 1 GB).
struct stream_node_limits {
  std::int64_t max_entries = 100;
  std::int64_t max_bytes = 4096;
};

class stream_value final : public value_object {
 public:

  using entry_fn = std::function<void(const stream_id&, std::span<const std::string_view>)>;

  std::size_t memory_usage(std::size_t samples) const override;
  value_object* clone() const override;
  const char* encoding_name() const override { return "stream"; }

  // Appends with `id` > last_id (the caller checked it).
  void append(const stream_id& id, std::span<const std::string_view> fields_values,
              const stream_node_limits& limits = {});
  // Visits live entries in [start, end] (reverse order when rev), at most
  // `count` (0 = all). Returns the number visited.
  std::size_t range(const stream_id& start, const stream_id& end, std::size_t count, bool rev,
                    const entry_fn& fn) const;
  bool contains(const stream_id& id) const;
  // Tombstones one entry; false when absent.
  bool remove(const stream_id& id);
  // streamTrim; returns the number of entries removed.
  std::int64_t trim(const stream_trim_args& args);

  // First/last live id (zero ids when empty).
  stream_id first_live() const;
  stream_id last_live() const;

  // Redis's lag helpers (streamRangeHasTombstones, streamEstimateDistanceFromFirstEverEntry).
  bool range_has_tombstones(const stream_id& start, const stream_id& end) const;
  std::int64_t estimate_distance(const stream_id& id) const;

  // Group `g` was just handed entry `id` (> g.last_id): moves its last id and
  // keeps its entries_read counter exact while no tombstone lies ahead, else
  // re-estimates it (streamReplyWithRange).
  void advance_group(stream_group& g, const stream_id& id) const;
  // XINFO's lag of `g`: entries added but not yet delivered to it; nullopt
  // when it cannot be known (streamReplyWithCGLag).
  std::optional<std::int64_t> group_lag(const stream_group& g) const;

  // XINFO STREAM's radix-tree-keys and radix-tree-nodes. Redis indexes its
  // listpack nodes in a radix tree keyed by the node's first id (16 bytes,
  // big endian); our chunks follow the same boundaries, so keys = chunks and
  // nodes = the node count of a compressed radix tree over the chunks' base
  // ids (what Redis's rax holds after inserts; after deletions Redis may keep
  // a slightly different shape).
  std::size_t radix_tree_keys() const { return chunks_.size(); }
  std::size_t radix_tree_nodes() const;

  std::size_t chunk_count() const { return chunks_.size(); }
  const std::vector<stream_chunk>& chunks() const { return chunks_; }

  std::uint64_t length = 0;
  stream_id last_id;
  stream_id first_id;
  stream_id max_deleted_id;
  std::uint64_t entries_added = 0;
  std::map<std::string, stream_group, std::less<>> groups;

 private:
  void refresh_first_id();
  std::vector<stream_chunk> chunks_;
};

}  // namespace shrike::store

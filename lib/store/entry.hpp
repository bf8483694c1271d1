#pragma once
// One key of the keyspace = one heap block:
//
//   [entry header 24 B][expire_info 16 B, only if the key has a TTL][key bytes][value]
//
// value: inline bytes (capacity up to the end of the malloc block, so
// APPEND/SETRANGE often grow in place) or a pointer to a value_object. Strings
// and the compact encodings of small collections (packed hashes and sorted
// sets, integer sets: Redis's listpack/intset idea) are inline; large
// collections are value_objects (object_value_flag). One allocation per key is what makes Shrike lighter per key
// than Redis (dictEntry + robj key + robj/sds value). Keys without a TTL pay
// nothing for expiry: the 16 bytes exist only in blocks of keys that have one.
//
// Blocks are owned by a database (store/database.hpp); a block is reallocated
// when its layout changes, so entry pointers are valid only until the next
// write to the same key.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace shrike::store {

// Numbering as Redis's OBJ_* constants (the RDB type codes derive from them).
enum class value_type : std::uint8_t { string = 0, list = 1, set = 2, zset = 3, hash = 4, stream = 6 };

// What OBJECT ENCODING reports for a string.
enum class string_encoding : std::uint8_t { raw = 0, integer = 1, embstr = 2 };

// Base of the heap objects that hold collection values.
struct value_object {
  virtual ~value_object() = default;
  // Bytes the value holds beyond the key's block (MEMORY USAGE). Elements
  // are measured up to `samples` of them (SIZE_MAX: all) and the rest
  // estimated from their average, as Redis samples nested values.
  virtual std::size_t memory_usage(std::size_t samples) const = 0;
  virtual value_object* clone() const = 0;  // COPY
  virtual const char* encoding_name() const = 0;  // OBJECT ENCODING
};

struct expire_info {
  std::int64_t at_ms;       // absolute unix time in milliseconds
  std::uint64_t index;      // position in the database's expiring-keys vector
};

struct entry {
  entry* next;              // hash-bucket chain
  std::uint32_t key_len;
  std::uint32_t val_len;    // strings: byte length
  std::uint32_t lru;        // last access, unix seconds (OBJECT IDLETIME)
  value_type type;
  std::uint8_t encoding;    // strings: string_encoding
  std::uint8_t flags;
  std::uint8_t reserved;    // keys: the snapshot epoch (store/snapshot_epoch.hpp)

  static constexpr std::uint8_t has_expire_flag = 1;
  static constexpr std::uint8_t object_value_flag = 2;  // the value slot holds a value_object*

  bool has_expire() const { return flags & has_expire_flag; }
  bool holds_object() const { return flags & object_value_flag; }
  // Bytes of the value slot that a copy of the block must carry.
  std::size_t payload_size() const { return holds_object() ? sizeof(value_object*) : val_len; }
  std::size_t header_size() const { return sizeof(entry) + (has_expire() ? sizeof(expire_info) : 0); }

  expire_info* expiry() { return reinterpret_cast<expire_info*>(this + 1); }
  const expire_info* expiry() const { return reinterpret_cast<const expire_info*>(this + 1); }

  char* key_data() { return reinterpret_cast<char*>(this) + header_size(); }
  const char* key_data() const { return reinterpret_cast<const char*>(this) + header_size(); }
  std::string_view key() const { return {key_data(), key_len}; }

  char* value_data() { return key_data() + key_len; }
  const char* value_data() const { return key_data() + key_len; }

  // Inline values (strings, compact collections).
  std::string_view str() const { return {value_data(), val_len}; }
  std::size_t string_capacity() const;

  // Object values only: the pointer is stored unaligned after the key.
  value_object* object() const {
    value_object* p;
    std::memcpy(&p, value_data(), sizeof(p));
    return p;
  }
  void set_object(value_object* p) {
    std::memcpy(value_data(), &p, sizeof(p));
    flags |= object_value_flag;
    val_len = 0;
  }

  // Bytes of the block as the allocator reports them (INFO/MEMORY accounting).
  std::size_t block_size() const;
};
static_assert(sizeof(entry) == 24);

// Allocates a block for `key` with room for `value_capacity` inline value bytes
// (at least a pointer's worth).
entry* allocate_entry(std::string_view key, value_type type, std::size_t value_capacity, bool with_expire);
// Frees the block and the value object it owns.
void free_entry(entry* e);
// Copies `e` into a new block with the given expiry layout and value capacity
// (at least the current payload); frees the old block.
entry* reshape_entry(entry* e, bool with_expire, std::size_t value_capacity);

// A copy of `e` under another key (RENAME): same value (the object moves, it
// is not copied), same TTL. Frees the old block.
entry* rekey_entry(entry* e, std::string_view new_key);
// A deep copy of `e` under `new_key` (COPY); the TTL is not copied.
entry* copy_entry(const entry* e, std::string_view new_key);

// MEMORY USAGE of a key: its block, its bucket slot and what its value holds.
std::size_t key_memory_usage(const entry* e, std::size_t samples);

// The OBJECT ENCODING Redis would pick for a string value set by SET.
string_encoding classify_string(std::string_view value);

}  // namespace shrike::store

#pragma once
// rdb_reader: loads what Redis 7.0 can load -- RDB files of versions 1 to 10
// and DUMP payloads -- into our own store representations.
//
// Every value encoding Redis 7.0 reads is accepted: strings (plain, integer,
// LZF), LIST, ZIPLIST and QUICKLIST (v1 ziplist nodes, v2 listpack and PLAIN
// nodes) lists, SET and INTSET sets, ZSET (text doubles), ZSET_2, ZIPLIST and
// LISTPACK sorted sets, HASH, ZIPMAP, ZIPLIST and LISTPACK hashes, and
// STREAM_LISTPACKS 1 and 2. Opcodes: AUX, SELECTDB, RESIZEDB, EXPIRETIME (s)
// and EXPIRETIME_MS, IDLE (applied to the key's access time) and FREQ
// (skipped: we keep no LFU counter). Module values and module AUX data are
// refused. Function libraries (FUNCTION2) go to load_options::on_function;
// without it, or in the pre-7.0 FUNCTION format, they are refused too
// (dropping a user's libraries silently would lose data).
//
// The encoding a value gets is the one Redis 7.0 would give it after the
// load (rdbLoadObject), under the *-max-listpack-* / set-max-intset-entries
// limits passed in: e.g. a HASH of few short fields becomes a listpack, a
// HASH_LISTPACK stays one unless it has too many fields.
//
// Everything read is validated (lengths against the bytes left, listpack /
// ziplist / intset structure, duplicates, stream PELs): corrupt input is an
// rdb_error carrying the byte offset, never undefined behaviour and never a
// partial result.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/database.hpp"
#include "store/entry.hpp"

namespace shrike::persistence {

class rdb_error : public std::runtime_error {
 public:
  rdb_error(const std::string& what, std::uint64_t offset) : std::runtime_error(what), offset_(offset) {}
  std::uint64_t offset() const { return offset_; }

 private:
  std::uint64_t offset_;
};

// The input: bytes in memory or a file read in blocks, with the offset and
// the running CRC-64 of the bytes consumed.
class rdb_input {
 public:
  explicit rdb_input(std::string_view bytes);
  // Reads `file` (not owned) from its current position; `size` is its total
  // size when known (lengths are checked against it), else 0.
  rdb_input(std::FILE* file, std::uint64_t size);
  rdb_input(const rdb_input&) = delete;
  rdb_input& operator=(const rdb_input&) = delete;

  // Throws rdb_error "Unexpected EOF" when fewer than n bytes are left.
  void read(void* dst, std::size_t n);
  std::uint8_t byte();
  std::uint64_t offset() const { return base_ + pos_; }
  // Bytes left when the total is known, else UINT64_MAX.
  std::uint64_t remaining() const;
  bool at_end();
  std::uint64_t crc();

  [[noreturn]] void fail(const std::string& what) const { throw rdb_error(what, offset()); }

 private:
  bool refill();
  void fold_crc();

  std::FILE* file_ = nullptr;
  std::uint64_t total_ = 0;  // 0: unknown
  std::unique_ptr<char[]> storage_;
  const char* buf_ = nullptr;
  std::size_t len_ = 0, pos_ = 0, crc_pos_ = 0;
  std::uint64_t base_ = 0;  // offset of buf_[0]
  std::uint64_t crc_ = 0;
};

// Limits of the compact encodings (the server's configuration).
struct load_limits {
  std::size_t hash_max_entries = 512;
  std::size_t hash_max_value = 64;
  std::size_t set_max_intset = 512;
  std::size_t zset_max_entries = 128;
  std::size_t zset_max_value = 64;
};

// A value read from RDB that is not in a keyspace yet.
struct decoded_value {
  store::value_type type = store::value_type::string;
  std::uint8_t encoding = 0;                     // entry::encoding
  std::string bytes;                             // a string, or an inline compact form
  std::unique_ptr<store::value_object> object;  // the object form (else inline)
  bool empty = false;                            // an empty collection (not loadable)
};

// Reads one value of RDB type `type` (the byte before the key, or the first
// byte of a DUMP payload).
decoded_value read_value(rdb_input& in, int type, const load_limits& limits);

// Adds the value under `key` (absent) in `db`; returns its entry.
store::entry* store_value(store::database& db, std::string_view key, decoded_value&& v, std::int64_t now_ms);

// DUMP payloads (RESTORE): verifyDumpPayload's check (RDB version <= 10 and
// the CRC-64), then the value.
bool verify_dump_payload(std::string_view payload);
// The value of a verified payload (read from the start of the whole payload,
// footer included, as Redis does); throws rdb_error when it does not decode.
decoded_value read_dump_payload(std::string_view payload, const load_limits& limits);

struct load_result {
  int version = 0;
  std::uint64_t keys_loaded = 0;
  std::uint64_t keys_expired = 0;
  std::uint64_t empty_keys_skipped = 0;
  std::vector<std::pair<std::string, std::string>> aux;
  bool checksum_checked = false;  // false: the file had a 0 trailer or checking was off
};

// Where a key read from the file goes: database number `db` of whoever owns `key`.
using database_for = std::function<store::database&(std::size_t db, std::string_view key)>;

struct load_options {
  std::size_t databases = 16;
  load_limits limits;
  std::int64_t now_ms = 0;
  bool skip_expired = true;     // as a master does: keys whose TTL passed are dropped
  bool verify_checksum = true;  // rdbchecksum
  // Called with the code of each function library (FUNCTION2 record); throws
  // std::exception to fail the load. Unset: a file with libraries is refused.
  std::function<void(std::string&& code)> on_function;
};

// Reads a whole RDB stream into the databases `target` designates. Throws
// rdb_error (with the offset) on anything corrupt; keys added before the
// error stay, the caller discards them.
load_result read_rdb(rdb_input& in, const database_for& target, const load_options& opts);

}  // namespace shrike::persistence

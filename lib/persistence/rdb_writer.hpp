#pragma once
// rdb_writer: the keyspace, or one value, in Redis 7.0's RDB format (version
// 10), byte for byte what redis-server 7.0 writes for the same values in the
// same encodings.
//
// The writer appends to a caller-owned string and keeps a running CRC-64 of
// everything it appended, so the caller may flush `out` to a file or socket
// and clear it between any two calls (chunked writing; a single value is
// appended whole). A file is:
//
//   rdb_writer w(out, opts);
//   w.header(standard_aux(now_s, used_memory));
//   for each non-empty db:  w.select_db(db, keys, keys_with_ttl);
//                           for each key:  w.key(e, now_ms); w.value(e);
//   w.finish();             // EOF opcode + CRC-64
//
// Encodings (rdbSaveObjectType/rdbSaveObject): strings as rdbSaveRawString
// (small integers int-encoded, LZF when longer than 20 bytes and it saves at
// least 4 bytes); lists as QUICKLIST_2 with listpack nodes cut as quicklist
// cuts them for RPUSHes under list-max-listpack-size (PLAIN nodes for
// elements of 1 GB or more); intsets as INTSET, other sets as SET; packed
// hashes and sorted sets as HASH_LISTPACK / ZSET_LISTPACK, the others as HASH
// / ZSET_2 (members from the highest score down, binary doubles); streams as
// STREAM_LISTPACKS_2, one listpack per chunk, with groups, PELs, consumers.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/entry.hpp"

namespace shrike::persistence {

struct rdb_save_options {
  bool compress = true;    // rdbcompression
  bool checksum = true;    // rdbchecksum: the trailer is 0 when off
  int list_fill = -2;      // list-max-listpack-size
  bool save_idle = false;  // an LRU maxmemory-policy: IDLE (seconds) before each key
  bool save_freq = false;  // an LFU maxmemory-policy: FREQ (the access counter) before each key
  // Function libraries (their code), written after the AUX fields as
  // FUNCTION2 records (scripting/rdb_functions.hpp); null: none.
  std::shared_ptr<const std::vector<std::string>> functions = nullptr;
};

using aux_fields = std::vector<std::pair<std::string, std::string>>;

// The AUX fields of rdbSaveInfoAuxFields for a plain save: redis-ver,
// redis-bits, ctime, used-mem, aof-base 0.
aux_fields standard_aux(std::int64_t now_s, std::uint64_t used_memory);

class rdb_writer {
 public:
  explicit rdb_writer(std::string& out) : rdb_writer(out, rdb_save_options{}) {}
  rdb_writer(std::string& out, const rdb_save_options& opts) : out_(out), opts_(opts) {}
  rdb_writer(const rdb_writer&) = delete;
  rdb_writer& operator=(const rdb_writer&) = delete;

  // "REDIS0010" and the AUX fields, in order.
  void header(const aux_fields& aux);
  // SELECTDB + RESIZEDB (key count, count of keys with a TTL).
  void select_db(std::size_t db, std::uint64_t keys, std::uint64_t expires);
  // The key record's head: EXPIRETIME_MS when e has a TTL, IDLE when
  // opts.save_idle (from e.lru and now_ms), the value type, the key name.
  void key(const store::entry& e, std::int64_t now_ms);
  // The value of e (after key(), or after value_type() for a DUMP payload).
  void value(const store::entry& e);
  // Just the value type byte (DUMP payloads start with it).
  void value_type(const store::entry& e);
  // EOF opcode and the CRC-64 (little endian; 0 when opts.checksum is off).
  void finish();

  // CRC-64 of every byte appended so far (after finish(): the trailer's value).
  std::uint64_t crc() const { return crc_; }
  // Bytes appended so far (flushed or not).
  std::uint64_t bytes_written() const { return written_; }

  // The RDB type Redis 7.0 saves e's value as.
  static std::uint8_t type_of(const store::entry& e);

 private:
  class appending;  // updates the CRC when a public call returns

  void put(const void* p, std::size_t n) { out_.append(static_cast<const char*>(p), n); }
  void put_byte(std::uint8_t b) { out_.push_back(static_cast<char>(b)); }
  void put_le64(std::uint64_t v);
  void put_len(std::uint64_t len);
  void put_string(std::string_view s);  // rdbSaveRawString
  void put_list(const store::entry& e);
  void put_set(const store::entry& e);
  void put_zset(const store::entry& e);
  void put_hash(const store::entry& e);
  void put_stream(const store::entry& e);

  std::string& out_;
  rdb_save_options opts_;
  std::uint64_t crc_ = 0;
  std::uint64_t written_ = 0;
  std::string scratch_;  // LZF output
};

// DUMP's payload: value type, value, RDB version (2 bytes LE), CRC-64 of all
// that (8 bytes LE).
std::string create_dump_payload(const store::entry& e, const rdb_save_options& opts = {});

}  // namespace shrike::persistence

#pragma once
// RDB files on disk: writing one as rdbSave does (a temp file next to the
// target, fsync, rename over the target, fsync of the directory) and loading
// one into the shard set at startup.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "persistence/rdb_reader.hpp"
#include "persistence/rdb_writer.hpp"
#include "store/shard_set.hpp"

namespace shrike::persistence {

// A file being written to `temp_path`; commit() puts it at its final path.
// Destroyed uncommitted, it removes the temp file.
class rdb_file_writer {
 public:
  rdb_file_writer() = default;
  ~rdb_file_writer() { abort(); }
  rdb_file_writer(const rdb_file_writer&) = delete;
  rdb_file_writer& operator=(const rdb_file_writer&) = delete;

  bool open(const std::string& temp_path, std::string& error);
  bool write(std::string_view bytes, std::string& error);
  // fflush + fsync + close, rename over `final_path`, fsync its directory.
  bool commit(const std::string& final_path, std::string& error);
  void abort();

 private:
  std::FILE* file_ = nullptr;
  std::string temp_;
};

// The whole keyspace of `shards` in RDB format, handed to `sink` in chunks of
// about a megabyte (false from the sink stops the save). The caller keeps the
// keyspace still meanwhile (SAVE holds every shard's gate).
bool write_keyspace(store::shard_set& shards, const rdb_save_options& opts, const aux_fields& aux,
                    std::int64_t now_ms, const std::function<bool(std::string_view)>& sink);

// SAVE: write_keyspace into `temp_path`, then committed as `path`. On
// failure `error` says which step failed and why.
bool save_file(const std::string& path, const std::string& temp_path, store::shard_set& shards,
               const rdb_save_options& opts, const aux_fields& aux, std::int64_t now_ms, std::string& error);

// Startup: loads `path` into `shards` (not running yet). nullopt when there is
// no such file. On a corrupt or truncated file the databases are emptied
// again and rdb_error is thrown with a message naming the file and the byte
// offset.
std::optional<load_result> load_file(const std::string& path, store::shard_set& shards, const load_options& opts);

}  // namespace shrike::persistence

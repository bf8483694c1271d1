#include "persistence/rdb_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace shrike::persistence {

namespace {

std::string errno_text(const char* op) { return std::string(op) + ": " + std::strerror(errno); }

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

bool rdb_file_writer::open(const std::string& temp_path, std::string& error) {
  abort();
  file_ = std::fopen(temp_path.c_str(), "w");
  if (!file_) {
    error = "Failed opening the temp RDB file " + temp_path + " for saving: " + std::strerror(errno);
    return false;
  }
  temp_ = temp_path;
  return true;
}

bool rdb_file_writer::write(std::string_view bytes, std::string& error) {
  if (!file_) {
    error = "write: no open file";
    return false;
  }
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    error = errno_text("write");
    return false;
  }
  return true;
}

bool rdb_file_writer::commit(const std::string& final_path, std::string& error) {
  if (!file_) {
    error = "commit: no open file";
    return false;
  }
  if (std::fflush(file_) != 0) {
    error = errno_text("fflush");
    return false;
  }
  if (::fsync(fileno(file_)) != 0) {
    error = errno_text("fsync");
    return false;
  }
  const int rc = std::fclose(file_);
  file_ = nullptr;
  if (rc != 0) {
    error = errno_text("fclose");
    return false;
  }
  if (std::rename(temp_.c_str(), final_path.c_str()) != 0) {
    error = "Error moving temp DB file " + temp_ + " on the final destination " + final_path + ": " +
            std::strerror(errno);
    return false;
  }
  temp_.clear();
  // The rename itself must reach the disk (fsyncFileDir).
  const int dir = ::open(directory_of(final_path).c_str(), O_RDONLY);
  if (dir < 0) {
    error = errno_text("fsyncFileDir");
    return false;
  }
  const int synced = ::fsync(dir);
  ::close(dir);
  if (synced != 0) {
    error = errno_text("fsyncFileDir");
    return false;
  }
  return true;
}

void rdb_file_writer::abort() {
  if (file_) {
    std::fclose(file_);
    file_ = nullptr;
  }
  if (!temp_.empty()) {
    ::unlink(temp_.c_str());
    temp_.clear();
  }
}

bool write_keyspace(store::shard_set& shards, const rdb_save_options& opts, const aux_fields& aux,
                    std::int64_t now_ms, const std::function<bool(std::string_view)>& sink) {
  constexpr std::size_t chunk = std::size_t{1} << 20;
  std::string out;
  rdb_writer w(out, opts);
  auto flush = [&](bool always) {
    if (out.empty() || (!always && out.size() < chunk)) return true;
    const bool ok = sink(out);
    out.clear();
    return ok;
  };
  w.header(aux);
  for (std::size_t db = 0; db < shards.database_count(); ++db) {
    std::uint64_t keys = 0, expires = 0;
    for (std::size_t s = 0; s < shards.size(); ++s) {
      keys += shards.at(s).db(db).size();
      expires += shards.at(s).db(db).expires_count();
    }
    if (keys == 0) continue;
    w.select_db(db, keys, expires);
    bool ok = true;
    for (std::size_t s = 0; s < shards.size() && ok; ++s) {
      shards.at(s).db(db).for_each([&](const store::entry* e) {
        if (!ok) return;
        w.key(*e, now_ms);
        w.value(*e);
        ok = flush(false);
      });
    }
    if (!ok) return false;
  }
  w.finish();
  return flush(true);
}

bool save_file(const std::string& path, const std::string& temp_path, store::shard_set& shards,
               const rdb_save_options& opts, const aux_fields& aux, std::int64_t now_ms, std::string& error) {
  rdb_file_writer file;
  if (!file.open(temp_path, error)) return false;
  const bool written = write_keyspace(shards, opts, aux, now_ms, [&](std::string_view bytes) {
    return file.write(bytes, error);
  });
  if (!written) return false;  // the temp file goes with `file`
  return file.commit(path, error);
}

std::optional<load_result> load_file(const std::string& path, store::shard_set& shards, const load_options& opts) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    if (errno == ENOENT) return std::nullopt;
    throw rdb_error("Fatal error loading the DB (" + path + "): " + std::strerror(errno), 0);
  }
  struct stat st {};
  const std::uint64_t size = ::fstat(fileno(f), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  rdb_input in(f, size);
  try {
    auto target = [&](std::size_t db, std::string_view key) -> store::database& { return shards.db_for(key, db); };
    load_result res = read_rdb(in, target, opts);
    std::fclose(f);
    return res;
  } catch (const rdb_error& e) {
    std::fclose(f);
    for (std::size_t s = 0; s < shards.size(); ++s)
      for (std::size_t db = 0; db < shards.database_count(); ++db) shards.at(s).db(db).clear();
    throw rdb_error("Bad RDB file " + path + ": " + e.what() + " at byte offset " + std::to_string(e.offset()),
                    e.offset());
  }
}

}  // namespace shrike::persistence

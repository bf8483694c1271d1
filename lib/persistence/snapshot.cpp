#include "persistence/snapshot.hpp"

#include "store/snapshot_epoch.hpp"

namespace shrike::persistence {

snapshot::snapshot(store::shard_set& shards, const rdb_save_options& opts)
    : shards_(shards), opts_(opts), states_(shards.size()) {
  for (auto& st : states_) st.writer = std::make_unique<rdb_writer>(st.bytes, opts_);
}

void snapshot::begin() {
  epoch_ = static_cast<std::uint8_t>(store::snapshot_epoch() + 1);
  store::current_snapshot_epoch.store(epoch_, std::memory_order_relaxed);
}

void snapshot::save(shard_state& st, std::size_t db, store::entry* e, std::int64_t now_ms) {
  e->reserved = epoch_;
  if (store::database::is_expired(e, now_ms)) return;  // gone at load time anyway
  if (st.selected_db != db) {
    // One shard's keys of one database at a time; a later SELECTDB for the
    // same database just switches back (loaders accept it).
    auto& d = shards_.at(static_cast<std::size_t>(&st - states_.data())).db(db);
    st.writer->select_db(db, d.size(), d.expires_count());
    st.selected_db = db;
  }
  st.writer->key(*e, now_ms);
  st.writer->value(*e);
  keys_saved_.fetch_add(1, std::memory_order_relaxed);
}

void snapshot::guard(std::size_t s, std::size_t db, std::string_view key, std::int64_t now_ms) {
  shard_state& st = states_[s];
  if (st.done) return;
  store::entry* e = shards_.at(s).db(db).lookup(key, now_ms);
  if (e && e->reserved != epoch_) save(st, db, e, now_ms);
}

bool snapshot::step(std::size_t s, std::int64_t now_ms, std::size_t budget) {
  shard_state& st = states_[s];
  auto& sh = shards_.at(s);
  while (!st.done && st.bytes.size() < budget) {
    if (st.scan_db >= sh.database_count()) {
      st.done = true;
      break;
    }
    auto& db = sh.db(st.scan_db);
    // One bucket per scan_step; the reverse-binary cursor visits every key
    // present for the whole scan even if the table resizes meanwhile (a key
    // seen twice is saved once: its epoch says so).
    std::vector<store::entry*> pending;
    st.cursor = db.scan_step(st.cursor, [&](store::entry* e) {
      if (e->reserved != epoch_) pending.push_back(e);
    });
    for (store::entry* e : pending) save(st, st.scan_db, e, now_ms);
    if (st.cursor == 0) {
      ++st.scan_db;
      st.cursor = 0;
    }
  }
  return !st.done;
}

void snapshot::finish_shard(std::size_t s, std::int64_t now_ms) {
  while (step(s, now_ms, SIZE_MAX)) {
  }
}

void snapshot::take(std::size_t s, std::string& out) {
  out.clear();
  out.swap(states_[s].bytes);
  // Other shards' bytes go into the file next: say the database again.
  states_[s].selected_db = SIZE_MAX;
}

}  // namespace shrike::persistence

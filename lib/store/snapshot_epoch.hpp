#pragma once
// The epoch of the snapshot in progress (persistence/snapshot.hpp). Every key
// block records, in entry::reserved, the epoch it was written to a snapshot
// in, or created in: a block whose epoch differs from the current one still
// has to be saved by the running snapshot. A new snapshot starts by moving
// to the next epoch (with every shard's gate held), which makes every
// existing key pending at once without touching it.
#include <atomic>
#include <cstdint>

namespace shrike::store {

inline std::atomic<std::uint8_t> current_snapshot_epoch{0};

inline std::uint8_t snapshot_epoch() { return current_snapshot_epoch.load(std::memory_order_relaxed); }

}  // namespace shrike::store

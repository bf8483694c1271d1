#include "store/shard_set.hpp"

namespace shrike::store {

shard_set::shard_set(asio::io_context& io, std::size_t shards, std::size_t databases)
    : databases_(databases) {
  for (std::size_t i = 0; i < shards; ++i) {
    shards_.push_back(std::make_unique<shard>(io, i, databases));
    all_.push_back(i);
  }
}

void shard_set::start_expiry(std::chrono::milliseconds period) {
  for (auto& s : shards_) s->start_expiry(period);
}

void shard_set::stop() {
  for (auto& s : shards_) s->stop();
}

}  // namespace shrike::store

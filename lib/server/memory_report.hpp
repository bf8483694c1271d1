#pragma once
// Where the process's memory goes, in the terms of Redis's
// getMemoryOverheadData: MEMORY STATS and MEMORY DOCTOR report it, INFO
// memory shows part of it.
//
// The allocator is glibc's malloc. It reports what it hands out (in use) and
// what it holds (its arenas and mmapped chunks), not which of its pages are
// resident, so allocator.resident is the process's RSS and the
// "rss-overhead" figures are 1 and 0.
#include <cstdint>
#include <string>
#include <vector>

namespace shrike::server {

class server_context;

struct memory_figures {
  std::uint64_t peak_allocated = 0, total_allocated = 0, startup_allocated = 0;
  std::uint64_t repl_backlog = 0, clients_replicas = 0, clients_normal = 0;
  std::uint64_t lua_caches = 0, functions_caches = 0;
  struct db_overhead {
    std::size_t id = 0;
    std::uint64_t main = 0, expires = 0;
  };
  std::vector<db_overhead> dbs;  // databases that hold keys
  std::uint64_t overhead_total = 0, total_keys = 0, bytes_per_key = 0, dataset = 0;
  double dataset_perc = 0, peak_perc = 0;
  std::uint64_t allocator_allocated = 0, allocator_active = 0, allocator_resident = 0, process_rss = 0;
  double allocator_frag = 0, allocator_rss = 0, rss_extra = 0, total_frag = 0;
  std::int64_t allocator_frag_bytes = 0, allocator_rss_bytes = 0, rss_extra_bytes = 0, total_frag_bytes = 0;
  std::size_t replicas = 0, normal_clients = 0, cached_scripts = 0;
};

// Call with every shard's gate held: it reads every database.
memory_figures collect_memory_figures(server_context& srv);

// Bytes the allocator has handed out and not taken back (INFO used_memory);
// also notes a new peak.
std::uint64_t allocated_bytes();
std::uint64_t peak_allocated_bytes();
// Bytes the allocator holds from the system (arenas and mmapped chunks).
std::uint64_t allocator_held_bytes();
std::uint64_t process_rss_bytes();
// The allocation level once the server is ready, before any data
// (used_memory_startup).
void note_startup_memory();

// MEMORY DOCTOR: the problems the figures show, one paragraph each.
std::string memory_doctor_report(const memory_figures& m);

}  // namespace shrike::server

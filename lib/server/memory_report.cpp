#include "server/memory_report.hpp"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>

#include "replication/replication_state.hpp"
#include "scripting/info.hpp"
#include "server/server_context.hpp"
#include "util/alloc_counter.hpp"

namespace shrike::server {
namespace {

std::atomic<std::uint64_t> peak{0};
std::atomic<std::uint64_t> startup{0};

double ratio(std::uint64_t a, std::uint64_t b) { return b ? static_cast<double>(a) / static_cast<double>(b) : 0.0; }
std::int64_t difference(std::uint64_t a, std::uint64_t b) { return static_cast<std::int64_t>(a) - static_cast<std::int64_t>(b); }

}  // namespace

std::uint64_t allocated_bytes() {
  const std::uint64_t used = static_cast<std::uint64_t>(std::max<std::int64_t>(0, util::counted_allocated_bytes()));
  std::uint64_t seen = peak.load(std::memory_order_relaxed);
  while (used > seen && !peak.compare_exchange_weak(seen, used, std::memory_order_relaxed)) {
  }
  return used;
}

std::uint64_t peak_allocated_bytes() {
  allocated_bytes();
  return peak.load(std::memory_order_relaxed);
}

std::uint64_t allocator_held_bytes() {
  const struct mallinfo2 mi = mallinfo2();
  return mi.arena + mi.hblkhd;
}

std::uint64_t process_rss_bytes() {
  std::ifstream in("/proc/self/statm");
  std::uint64_t pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

void note_startup_memory() { startup.store(allocated_bytes(), std::memory_order_relaxed); }

memory_figures collect_memory_figures(server_context& srv) {
  memory_figures m;
  m.total_allocated = allocated_bytes();
  m.peak_allocated = peak.load(std::memory_order_relaxed);
  m.startup_allocated = startup.load(std::memory_order_relaxed);

  for (const auto& c : srv.clients()) {
    std::uint64_t bytes = sizeof(client_state) + c->query_buffer.load(std::memory_order_relaxed) +
                          c->output_buffer.load(std::memory_order_relaxed);
    if (c->box) bytes += c->box->pending();
    if (c->role.load(std::memory_order_relaxed) == peer_role::replica) {
      ++m.replicas;
      m.clients_replicas += bytes;
    } else {
      ++m.normal_clients;
      m.clients_normal += bytes;
    }
  }
  const auto backlog = srv.repl().backlog_info();
  if (backlog.active) m.repl_backlog = backlog.histlen;
  const auto caches = scripting::cache_figures_of(srv);
  m.lua_caches = caches.scripts_eval;
  m.functions_caches = caches.functions;
  m.cached_scripts = caches.cached_scripts;

  m.overhead_total = m.startup_allocated + m.repl_backlog + m.clients_replicas + m.clients_normal + m.lua_caches +
                     m.functions_caches;
  for (std::size_t d = 0; d < srv.databases(); ++d) {
    memory_figures::db_overhead o;
    o.id = d;
    std::size_t keys = 0;
    for (std::size_t s = 0; s < srv.shards().size(); ++s) {
      const auto& db = srv.shards().at(s).db(d);
      keys += db.size();
      o.main += db.table_overhead();
      o.expires += db.expires_overhead();
    }
    if (keys == 0) continue;
    m.total_keys += keys;
    m.overhead_total += o.main + o.expires;
    m.dbs.push_back(o);
  }

  m.dataset = m.total_allocated > m.overhead_total ? m.total_allocated - m.overhead_total : 0;
  const std::uint64_t net = m.total_allocated > m.startup_allocated ? m.total_allocated - m.startup_allocated : 1;
  m.dataset_perc = static_cast<double>(static_cast<float>(m.dataset) * 100 / static_cast<float>(net));
  m.bytes_per_key = m.total_keys ? net / m.total_keys : 0;
  m.peak_perc = static_cast<double>(static_cast<float>(ratio(m.total_allocated, m.peak_allocated) * 100));

  m.allocator_allocated = m.total_allocated;
  m.allocator_active = allocator_held_bytes();
  m.process_rss = process_rss_bytes();
  m.allocator_resident = m.process_rss;
  m.allocator_frag = static_cast<float>(ratio(m.allocator_active, m.allocator_allocated));
  m.allocator_frag_bytes = difference(m.allocator_active, m.allocator_allocated);
  m.allocator_rss = static_cast<float>(ratio(m.allocator_resident, m.allocator_active));
  m.allocator_rss_bytes = difference(m.allocator_resident, m.allocator_active);
  m.rss_extra = static_cast<float>(ratio(m.process_rss, m.allocator_resident));
  m.rss_extra_bytes = difference(m.process_rss, m.allocator_resident);
  m.total_frag = static_cast<float>(ratio(m.process_rss, m.total_allocated));
  m.total_frag_bytes = difference(m.process_rss, m.total_allocated);
  return m;
}

std::string memory_doctor_report(const memory_figures& m) {
  constexpr std::uint64_t mb = 1024 * 1024;
  if (m.total_allocated < 5 * mb)
    return "This instance holds too little memory (under 5 MB) for the memory checks to mean anything. "
           "Load some data and ask again.\n";
  std::vector<std::string> found;
  if (ratio(m.peak_allocated, m.total_allocated) > 1.5)
    found.emplace_back(
        "Peak memory: the instance once used more than 150% of what it uses now. The allocator keeps much of "
        "that memory, which shows as fragmentation; it is reused as data grows again. MEMORY PURGE returns "
        "what the allocator can give back; a restart returns the rest.");
  if (m.total_frag > 1.4 && m.total_frag_bytes > static_cast<std::int64_t>(10 * mb))
    found.emplace_back(
        "High total RSS: the resident set is more than 1.4 times the bytes allocated. Either a past peak (see "
        "above) or a workload that fragments the heap; the allocator is glibc's malloc.");
  if (m.allocator_frag > 1.1 && m.allocator_frag_bytes > static_cast<std::int64_t>(10 * mb))
    found.emplace_back(
        "High allocator fragmentation: the allocator holds more than 1.1 times what is allocated from it. "
        "Usually a past peak; MEMORY PURGE trims the free memory at the top of each arena.");
  if (m.normal_clients && m.clients_normal / m.normal_clients > 200 * 1024)
    found.emplace_back(
        "Big client buffers: clients hold more than 200 KB of buffers each on average: subscribers that do "
        "not read fast enough, large replies, or long pipelines. CLIENT LIST shows each client's buffers.");
  if (m.replicas && m.clients_replicas > 10 * mb)
    found.emplace_back(
        "Big replica buffers: more than 10 MB waits in replica output buffers: a replica that cannot keep "
        "up or a slow network. INFO replication and CLIENT LIST show which.");
  if (m.cached_scripts > 1000)
    found.emplace_back(
        "Many scripts: more than 1,000 scripts are cached. Scripts generated per call fill the cache; pass "
        "the varying parts in KEYS and ARGV and use SCRIPT LOAD with EVALSHA, or SCRIPT FLUSH now and then.");
  if (found.empty()) return "No memory problem found in this instance.\n";
  std::string report = "Memory problems found in this instance:\n\n";
  for (const auto& f : found) report += " * " + f + "\n\n";
  return report;
}

}  // namespace shrike::server

// MEMORY: USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE, HELP. The figures are
// Shrike's own (one block per key, glibc's malloc; see
// server/memory_report.hpp); the replies have Redis 7.0's shape.
#include <malloc.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "server/memory_report.hpp"
#include "store/shard_set.hpp"

namespace shrike::commands {
namespace {

void cmd_memory_usage(command_context& ctx) {
  std::size_t samples = 5;  // OBJ_COMPUTE_SIZE_DEF_SAMPLES
  for (std::size_t j = 3; j < ctx.argc(); ++j) {
    if (iequals(ctx.arg(j), "samples") && j + 1 < ctx.argc()) {
      std::int64_t n;
      if (!int_arg(ctx, j + 1, n)) return;
      if (n < 0) return ctx.out.error(errors::syntax);
      samples = n == 0 ? SIZE_MAX : static_cast<std::size_t>(n);
      ++j;
    } else {
      return ctx.out.error(errors::syntax);
    }
  }
  auto& db = ctx.db(ctx.arg(2));
  const store::entry* e = db.lookup(ctx.arg(2), ctx.now_ms);
  if (!e) return ctx.out.null();
  ctx.out.integer(static_cast<std::int64_t>(store::key_memory_usage(e, samples)));
}

void integer_field(command_context& ctx, std::string_view name, std::int64_t v) {
  ctx.out.bulk(name);
  ctx.out.integer(v);
}
void double_field(command_context& ctx, std::string_view name, double v) {
  ctx.out.bulk(name);
  ctx.out.double_value(v);
}
std::int64_t as_int(std::uint64_t v) { return static_cast<std::int64_t>(v); }

void cmd_memory_stats(command_context& ctx) {
  const server::memory_figures m = server::collect_memory_figures(ctx.srv);
  ctx.out.map(27 + m.dbs.size());
  integer_field(ctx, "peak.allocated", as_int(m.peak_allocated));
  integer_field(ctx, "total.allocated", as_int(m.total_allocated));
  integer_field(ctx, "startup.allocated", as_int(m.startup_allocated));
  integer_field(ctx, "replication.backlog", as_int(m.repl_backlog));
  integer_field(ctx, "clients.slaves", as_int(m.clients_replicas));
  integer_field(ctx, "clients.normal", as_int(m.clients_normal));
  integer_field(ctx, "cluster.links", 0);
  integer_field(ctx, "aof.buffer", 0);
  integer_field(ctx, "lua.caches", as_int(m.lua_caches));
  integer_field(ctx, "functions.caches", as_int(m.functions_caches));
  for (const auto& db : m.dbs) {
    ctx.out.bulk("db." + std::to_string(db.id));
    ctx.out.map(3);
    integer_field(ctx, "overhead.hashtable.main", as_int(db.main));
    integer_field(ctx, "overhead.hashtable.expires", as_int(db.expires));
    integer_field(ctx, "overhead.hashtable.slot-to-keys", 0);
  }
  integer_field(ctx, "overhead.total", as_int(m.overhead_total));
  integer_field(ctx, "keys.count", as_int(m.total_keys));
  integer_field(ctx, "keys.bytes-per-key", as_int(m.bytes_per_key));
  integer_field(ctx, "dataset.bytes", as_int(m.dataset));
  double_field(ctx, "dataset.percentage", m.dataset_perc);
  double_field(ctx, "peak.percentage", m.peak_perc);
  integer_field(ctx, "allocator.allocated", as_int(m.allocator_allocated));
  integer_field(ctx, "allocator.active", as_int(m.allocator_active));
  integer_field(ctx, "allocator.resident", as_int(m.allocator_resident));
  double_field(ctx, "allocator-fragmentation.ratio", m.allocator_frag);
  integer_field(ctx, "allocator-fragmentation.bytes", m.allocator_frag_bytes);
  double_field(ctx, "allocator-rss.ratio", m.allocator_rss);
  integer_field(ctx, "allocator-rss.bytes", m.allocator_rss_bytes);
  double_field(ctx, "rss-overhead.ratio", m.rss_extra);
  integer_field(ctx, "rss-overhead.bytes", m.rss_extra_bytes);
  double_field(ctx, "fragmentation", m.total_frag);
  integer_field(ctx, "fragmentation.bytes", m.total_frag_bytes);
}

void cmd_memory_doctor(command_context& ctx) {
  ctx.out.verbatim(server::memory_doctor_report(server::collect_memory_figures(ctx.srv)));
}

// glibc's own report (malloc_info: XML, one element per arena).
void cmd_memory_malloc_stats(command_context& ctx) {
  char* text = nullptr;
  std::size_t len = 0;
  FILE* f = open_memstream(&text, &len);
  if (!f) return ctx.out.error("Error reading the allocator's statistics");
  malloc_info(0, f);
  std::fclose(f);
  ctx.out.verbatim(std::string_view(text, len));
  std::free(text);
}

// Gives the free memory at the top of the heap and of each arena back to
// the system.
void cmd_memory_purge(command_context& ctx) {
  malloc_trim(0);
  ctx.out.ok();
}

void cmd_memory_help(command_context& ctx) {
  write_help(ctx, {
                      "DOCTOR",
                      "    Return memory problems reports.",
                      "MALLOC-STATS",
                      "    Return internal statistics report from the memory allocator.",
                      "PURGE",
                      "    Attempt to purge dirty pages for reclamation by the allocator.",
                      "STATS",
                      "    Return information about the memory usage of the server.",
                      "USAGE <key> [SAMPLES <count>]",
                      "    Return memory in bytes used by <key> and its value. Nested values are",
                      "    sampled up to <count> times (default: 5, 0 means sample all).",
                  });
}

}  // namespace

void register_memory_commands(command_table& t) {
  t.add("memory|usage", exec_kind::keyed, cmd_memory_usage);
  t.add("memory|stats", exec_kind::all_shards, cmd_memory_stats);
  t.add("memory|doctor", exec_kind::all_shards, cmd_memory_doctor);
  t.add("memory|malloc-stats", exec_kind::local, cmd_memory_malloc_stats);
  t.add("memory|purge", exec_kind::local, cmd_memory_purge);
  t.add("memory|help", exec_kind::local, cmd_memory_help);
}

}  // namespace shrike::commands

// LATENCY: the latency monitor's events (LATEST, HISTORY, RESET, GRAPH,
// DOCTOR; server/latency_monitor.hpp) and the per-command latency histograms
// (HISTOGRAM; command_stat's buckets, recorded while latency-tracking is on).
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "util/clock.hpp"

namespace shrike::commands {
namespace {

void cmd_latency_latest(command_context& ctx) {
  const auto events = ctx.srv.latency().latest();
  ctx.out.array(events.size());
  for (const auto& e : events) {
    ctx.out.array(4);
    ctx.out.bulk(e.event);
    ctx.out.integer(e.last.time_s);
    ctx.out.integer(static_cast<std::int64_t>(e.last.ms));
    ctx.out.integer(static_cast<std::int64_t>(e.max_ms));
  }
}

void cmd_latency_history(command_context& ctx) {
  const auto samples = ctx.srv.latency().history(ctx.arg(2));
  ctx.out.array(samples.size());
  for (const auto& s : samples) {
    ctx.out.array(2);
    ctx.out.integer(s.time_s);
    ctx.out.integer(static_cast<std::int64_t>(s.ms));
  }
}

void cmd_latency_reset(command_context& ctx) {
  std::vector<std::string> events;
  for (std::size_t j = 2; j < ctx.argc(); ++j) events.emplace_back(ctx.arg(j));
  ctx.out.integer(static_cast<std::int64_t>(ctx.srv.latency().reset(events)));
}

// A column per sample, oldest left: its height is the latency against the
// range of the series, its label below it how long ago it was taken.
void cmd_latency_graph(command_context& ctx) {
  const std::string event(ctx.arg(2));
  const auto samples = ctx.srv.latency().history(event);
  if (samples.empty()) return ctx.out.error("No samples available for event '" + event + "'");
  std::uint64_t lo = samples.front().ms, hi = samples.front().ms;
  for (const auto& s : samples) {
    lo = std::min(lo, s.ms);
    hi = std::max(hi, s.ms);
  }
  constexpr int rows = 4;
  std::string text = event + " - high " + std::to_string(hi) + " ms, low " + std::to_string(lo) + " ms (all time high " +
                     std::to_string(ctx.srv.latency().max_of(event)) + " ms)\n";
  text += std::string(80, '-') + "\n";
  for (int r = rows; r >= 1; --r) {
    for (const auto& s : samples) {
      const double level = hi == lo ? rows : 1 + static_cast<double>(s.ms - lo) * (rows - 1) / static_cast<double>(hi - lo);
      text += level >= r ? (level >= r + 0.5 || r == rows ? '#' : '_') : ' ';
    }
    text += '\n';
  }
  const std::int64_t now_s = util::now_ms() / 1000;
  std::vector<std::string> ages;
  std::size_t tallest = 0;
  for (const auto& s : samples) {
    const std::int64_t age = now_s - s.time_s;
    ages.push_back(age < 60 ? std::to_string(age) + "s" : age < 3600 ? std::to_string(age / 60) + "m"
                                                                      : std::to_string(age / 3600) + "h");
    tallest = std::max(tallest, ages.back().size());
  }
  for (std::size_t r = 0; r < tallest; ++r) {  // the labels run downwards, one character per row
    for (const auto& a : ages) text += r < a.size() ? a[r] : ' ';
    text += '\n';
  }
  ctx.out.verbatim(text);
}

void cmd_latency_doctor(command_context& ctx) {
  const auto events = ctx.srv.latency().latest();
  const std::int64_t threshold = ctx.srv.latency_monitor_threshold_ms.load();
  std::string text;
  if (events.empty()) {
    text = threshold == 0 ? "The latency monitor is off (latency-monitor-threshold is 0): nothing was sampled. "
                            "CONFIG SET latency-monitor-threshold <milliseconds> turns it on.\n"
                          : "No latency spike of " + std::to_string(threshold) +
                                " ms or more was seen since the monitor started or was last reset.\n";
    return ctx.out.verbatim(text);
  }
  text = "Latency events seen (latency-monitor-threshold " + std::to_string(threshold) + " ms):\n\n";
  std::size_t n = 0;
  for (const auto& e : events) {
    const auto history = ctx.srv.latency().history(e.event);
    std::uint64_t sum = 0;
    for (const auto& s : history) sum += s.ms;
    const std::uint64_t avg = history.empty() ? 0 : sum / history.size();
    text += std::to_string(++n) + ". " + e.event + ": " + std::to_string(history.size()) +
            " latency spikes (average " + std::to_string(avg) + "ms, worst all time " + std::to_string(e.max_ms) +
            "ms).\n";
  }
  text += "\nAdvice:\n";
  for (const auto& e : events) {
    if (e.event == "command")
      text += "- Slow commands: SLOWLOG GET lists them; avoid O(N) commands on big values (KEYS, SMEMBERS, "
              "LRANGE 0 -1, HGETALL, SORT) or split the work with the SCAN family.\n";
    else if (e.event == "fast-command")
      text += "- Even O(1) and O(log N) commands were slow: the host may be overloaded or swapping; check the "
              "CPU and memory of the machine.\n";
  }
  ctx.out.verbatim(text);
}

// One command's cumulative distribution: calls, then the upper bound of
// each bucket that has calls (in us) with the count of calls up to it.
void write_histogram(command_context& ctx, const command_row& row) {
  std::uint64_t counts[command_stat::latency_buckets];
  std::uint64_t total = 0;
  for (std::size_t k = 0; k < command_stat::latency_buckets; ++k) total += counts[k] = row.stat.latency_bucket(k);
  ctx.out.bulk(row.info->name);
  ctx.out.map(2);
  ctx.out.bulk("calls");
  ctx.out.integer(static_cast<std::int64_t>(total));
  ctx.out.bulk("histogram_usec");
  const std::size_t marker = ctx.out.begin_deferred();
  std::size_t shown = 0;
  std::uint64_t cumulative = 0;
  for (std::size_t k = 0; k < command_stat::latency_buckets; ++k) {
    if (counts[k] == 0) continue;
    cumulative += counts[k];
    ctx.out.integer(static_cast<std::int64_t>((std::uint64_t{1024} << k) / 1000));
    ctx.out.integer(static_cast<std::int64_t>(cumulative));
    ++shown;
  }
  ctx.out.end_deferred_map(marker, shown);
}

bool has_latency_data(const command_row& row) {
  for (std::size_t k = 0; k < command_stat::latency_buckets; ++k)
    if (row.stat.latency_bucket(k)) return true;
  return false;
}

// The row, or for a container each of its subcommands with data.
std::size_t write_histograms_of(command_context& ctx, const command_row& row) {
  std::size_t n = 0;
  if (has_latency_data(row)) {
    write_histogram(ctx, row);
    ++n;
  }
  for (const auto& [name, sub] : row.subcommands) n += write_histograms_of(ctx, sub);
  return n;
}

void cmd_latency_histogram(command_context& ctx) {
  auto& table = command_table::instance();
  const std::size_t marker = ctx.out.begin_deferred();
  std::size_t n = 0;
  if (ctx.argc() == 2) {
    for (const command_row* row : table.rows()) n += write_histograms_of(ctx, *row);
  } else {
    for (std::size_t j = 2; j < ctx.argc(); ++j) {
      std::string name(ctx.arg(j));
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (const command_row* row = table.find(name)) n += write_histograms_of(ctx, *row);
    }
  }
  ctx.out.end_deferred_map(marker, n);
}

void cmd_latency_help(command_context& ctx) {
  write_help(ctx, {
                      "DOCTOR",
                      "    Return a human readable latency analysis report.",
                      "GRAPH <event>",
                      "    Return an ASCII latency graph for the <event> class.",
                      "HISTORY <event>",
                      "    Return time-latency samples for the <event> class.",
                      "LATEST",
                      "    Return the latest latency samples for all events.",
                      "RESET [<event> ...]",
                      "    Reset latency data of one or more <event> classes.",
                      "    (default: reset all data for all event classes)",
                      "HISTOGRAM [COMMAND ...]",
                      "    Return a cumulative distribution of latencies in the format of a histogram for the "
                      "specified command names.",
                      "    If no commands are specified then all histograms are replied.",
                  });
}

}  // namespace

void register_latency_commands(command_table& t) {
  t.add("latency|latest", exec_kind::local, cmd_latency_latest);
  t.add("latency|history", exec_kind::local, cmd_latency_history);
  t.add("latency|reset", exec_kind::local, cmd_latency_reset);
  t.add("latency|graph", exec_kind::local, cmd_latency_graph);
  t.add("latency|doctor", exec_kind::local, cmd_latency_doctor);
  t.add("latency|histogram", exec_kind::local, cmd_latency_histogram);
  t.add("latency|help", exec_kind::local, cmd_latency_help);
}

}  // namespace shrike::commands

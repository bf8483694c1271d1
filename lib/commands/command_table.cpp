#include "commands/command_table.hpp"
#include "util/clock.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace shrike::commands {

namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Whether the legacy (first, last, step) range gives the keys' positions.
// SET's and BITFIELD's special rules only choose their key's flags (read
// access with GET, read-only BITFIELD); the key is always argument 1.
bool has_simple_key_range(const command_info& info) {
  if (info.has(flag_movablekeys)) return false;
  return !info.has_get_keys_function || info.name == "set" || info.name == "bitfield";
}
}  // namespace

command_table& command_table::instance() {
  static command_table table;
  return table;
}

command_row& command_table::row_for(std::string_view name) {
  const auto& meta = command_metadata::instance();
  auto bar = name.find('|');
  if (bar == std::string_view::npos) {
    const command_info* info = meta.find(name);
    if (!info) throw std::logic_error("no Redis command named " + std::string(name));
    auto& row = rows_[info->name];
    row.info = info;
    return row;
  }
  auto parent_name = name.substr(0, bar);
  const command_info* parent = meta.find(parent_name);
  const command_info* info = parent ? meta.find_subcommand(*parent, name.substr(bar + 1)) : nullptr;
  if (!info) throw std::logic_error("no Redis subcommand named " + std::string(name));
  auto& prow = rows_[parent->name];
  prow.info = parent;
  prow.kind = exec_kind::local;
  auto& row = prow.subcommands[lower(name.substr(bar + 1))];
  row.info = info;
  return row;
}

void command_table::add(std::string_view name, exec_kind kind, sync_handler handler, route_handler route) {
  auto& row = row_for(name);
  row.kind = kind;
  row.run = handler;
  row.route = route;
  row.simple_key_range = has_simple_key_range(*row.info);
}

void command_table::add_async(std::string_view name, async_handler handler, sync_handler nonblocking) {
  auto& row = row_for(name);
  row.kind = exec_kind::session;
  row.run_async = handler;
  row.run = nonblocking;
  row.simple_key_range = has_simple_key_range(*row.info);
}

const command_row* command_table::find(std::string_view name) const {
  auto it = rows_.find(lower(name));
  if (it == rows_.end() || (!it->second.run && !it->second.run_async && it->second.subcommands.empty())) return nullptr;
  return &it->second;
}

const command_row* command_table::lookup(std::span<const std::string_view> argv, std::string& error) const {
  // Fast path: most names arrive in one case; avoid allocating for short ones.
  char buf[32];
  const command_row* row = nullptr;
  std::string_view name = argv[0];
  if (name.size() < sizeof(buf)) {
    for (std::size_t i = 0; i < name.size(); ++i) {
      const char c = name[i];
      buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
    }
    auto it = rows_.find(std::string(buf, name.size()));
    if (it != rows_.end()) row = &it->second;
  }
  if (row && row->is_container() && argv.size() >= 2) {
    auto it = row->subcommands.find(lower(argv[1]));
    if (it == row->subcommands.end()) {
      std::string upper(argv[0]);
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      std::string sub(argv[1].substr(0, 128));
      error = "unknown subcommand '" + std::string(sub.c_str()) + "'. Try " + upper + " HELP.";
      for (auto& c : error)
        if (c == '\r' || c == '\n') c = ' ';
      return nullptr;
    }
    row = &it->second;
  }
  if (!row || (!row->run && !row->run_async && !row->is_container())) {
    // Redis formats with %s: an argument is cut at its first NUL byte.
    auto c_str = [](std::string_view s) { return s.substr(0, std::min(s.find('\0'), s.size())); };
    std::string args;
    for (std::size_t i = 1; i < argv.size() && args.size() < 128; ++i) {
      auto a = c_str(argv[i]).substr(0, 128 - args.size());
      args += "'";
      args += a;
      args += "' ";
    }
    error = "unknown command '" + std::string(c_str(name).substr(0, 128)) + "', with args beginning with: " + args;
    for (auto& c : error)
      if (c == '\r' || c == '\n') c = ' ';
    return nullptr;
  }
  if (!row->info->arity_accepts(argv.size())) {
    error = "wrong number of arguments for '" + row->info->name + "' command";
    return nullptr;
  }
  return row;
}

std::vector<const command_row*> command_table::rows() const {
  std::vector<const command_row*> out;
  for (auto& [name, row] : rows_)
    if (row.run || row.run_async || row.is_container()) out.push_back(&row);
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->info->name < b->info->name; });
  return out;
}

bool command_table::implemented(const command_info& info) const {
  if (!info.parent) return find(info.name) != nullptr;
  auto* parent = find(info.parent->name);
  if (!parent) return false;
  auto it = parent->subcommands.find(info.declared_name);
  return it != parent->subcommands.end();
}

void command_table::key_positions(const command_row& row, std::span<const std::string_view> argv,
                                  std::vector<int>& out) {
  const command_info& info = *row.info;
  if (row.simple_key_range) {
    if (info.first_key <= 0) return;
    const int argc = static_cast<int>(argv.size());
    int last = info.last_key < 0 ? argc + info.last_key : info.last_key;
    for (int i = info.first_key; i <= last && i < argc; i += std::max(1, info.key_step)) out.push_back(i);
    return;
  }
  commands::key_positions(info, argv, out, nullptr);
}

void note_call(server::server_context& srv, const command_row& row, std::uint64_t usec) {
  row.stat.record_call(usec);
  if (srv.latency_tracking.load(std::memory_order_relaxed)) row.stat.record_latency(usec);
  const std::int64_t threshold = srv.latency_monitor_threshold_ms.load(std::memory_order_relaxed);
  if (threshold > 0 && static_cast<std::int64_t>(usec / 1000) >= threshold)
    srv.latency().add_sample(row.info->has(flag_fast) ? "fast-command" : "command", usec / 1000, util::now_ms() / 1000);
}

}  // namespace shrike::commands

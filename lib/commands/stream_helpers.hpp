#pragma once
// What the stream command files share: id arguments with Redis's error
// replies, entry replies, and the registration of the consumer-group
// introspection commands (stream_group_commands.cpp).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "commands/command_context.hpp"
#include "commands/command_table.hpp"
#include "commands/keyspace_notify.hpp"
#include "store/stream_value.hpp"

namespace shrike::commands::streams {

inline constexpr std::string_view invalid_id = "Invalid stream ID specified as stream command argument";

inline store::stream_value* as_stream(store::entry* e) { return static_cast<store::stream_value*>(e->object()); }

// streamGenericParseIDOrReply: false after the error reply.
inline bool id_arg(command_context& ctx, std::string_view s, store::stream_id& id, std::uint64_t missing_seq,
                   bool strict, bool* seq_given = nullptr) {
  if (store::parse_stream_id(s, id, missing_seq, strict, seq_given)) return true;
  ctx.out.error(invalid_id);
  return false;
}

// streamParseIntervalIDOrReply: "(" makes the bound exclusive.
inline bool interval_arg(command_context& ctx, std::string_view s, store::stream_id& id, bool& exclusive,
                         std::uint64_t missing_seq) {
  exclusive = s.size() > 1 && s[0] == '(';
  if (exclusive) return id_arg(ctx, s.substr(1), id, missing_seq, true);
  return id_arg(ctx, s, id, missing_seq, false);
}

inline void write_id(resp::reply_writer& out, const store::stream_id& id) { out.bulk(id.str()); }

// One entry: [id, [field, value, ...]].
inline void write_entry(resp::reply_writer& out, const store::stream_id& id, std::span<const std::string_view> fv) {
  out.array(2);
  write_id(out, id);
  out.array(fv.size());
  for (auto s : fv) out.bulk(s);
}

// The entry `id` when the stream holds it; false (nothing written) when not.
inline bool write_entry_if_present(resp::reply_writer& out, const store::stream_value& s, const store::stream_id& id) {
  return s.range(id, id, 1, false, [&](const store::stream_id& at, std::span<const std::string_view> fv) {
    write_entry(out, at, fv);
  }) == 1;
}

// streamReplyWithRange without groups: an array of entries.
inline void reply_range(resp::reply_writer& out, const store::stream_value& s, const store::stream_id& start,
                        const store::stream_id& end, std::size_t count, bool rev) {
  const std::size_t marker = out.begin_deferred();
  const std::size_t n = s.range(start, end, count, rev, [&](const store::stream_id& id,
                                                            std::span<const std::string_view> fv) {
    write_entry(out, id, fv);
  });
  out.end_deferred_array(marker, n);
}

// streamLookupConsumer + streamCreateConsumer (XREADGROUP, XCLAIM,
// XAUTOCLAIM): the consumer `name` of `g`, seen now; created when missing,
// which notifies "xgroup-createconsumer" on `key` in `db`.
inline store::stream_consumer& touch_consumer(server::server_context& srv, std::size_t db, std::string_view key,
                                              store::stream_group& g, std::string_view name, std::int64_t now_ms) {
  if (store::stream_consumer* c = g.find_consumer(name)) {
    c->seen_time = now_ms;
    return *c;
  }
  store::stream_consumer& c = g.create_consumer(name, now_ms);
  notify_event(srv, notify::stream, "xgroup-createconsumer", key, db);
  return c;
}

// XPENDING, XCLAIM, XAUTOCLAIM, XINFO.
void register_stream_group_commands(command_table& t);

}  // namespace shrike::commands::streams

#pragma once
// The master side of a full synchronization: a forkless snapshot
// (commands/background_save.hpp) streamed to the replicas that asked for it.
//
// With repl-diskless-sync yes (and replicas that announced capa eof) the RDB
// goes straight to their sockets as "$EOF:<mark>\r\n<rdb><mark>", after
// repl-diskless-sync-delay seconds so that replicas arriving together share
// one snapshot; the stream that accumulated meanwhile follows once the
// replica's first REPLCONF ACK says it loaded the RDB (a Redis replica stops
// reading at the mark). Otherwise the RDB goes to a temp file first and is
// sent as "$<length>\r\n<rdb>", the stream right behind it.
//
// The snapshot's point in time and the offset in +FULLRESYNC are fixed in
// the same instant, with every gate held, so the replica gets exactly the
// writes the RDB does not have.
#include <memory>

namespace shrike::server {
class server_context;
}

namespace shrike::replication {

struct replica_peer;

void start_full_sync(server::server_context& srv, std::shared_ptr<replica_peer> peer);

}  // namespace shrike::replication

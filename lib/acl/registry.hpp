#pragma once
// The server's ACL users and its ACL LOG.
//
// Users are immutable snapshots (shared_ptr<const user>) in a name-ordered
// table behind a reader/writer lock. A change (ACL SETUSER, DELUSER, LOAD,
// CONFIG SET requirepass) builds a new snapshot, swaps it in and bumps the
// epoch. A client keeps the snapshot it authenticated with and, before each
// command, compares its epoch with the registry's (one relaxed load): when
// they differ it takes the current snapshot of its user, so a change applies
// to connected clients at their next command, as in Redis. Each user has a
// uid that a re-created user does not share: a client whose user was deleted
// (or replaced by ACL LOAD) falls back to the default user, unauthenticated.
//
// Thread-safe. Changes are serialised; the lock is never held while a client
// is killed or a reply is written.
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "acl/user.hpp"

namespace shrike::acl {

// What an ACL LOG entry is about (Redis's ACL_DENIED_* values, ordered as
// Redis ranks them when several selectors deny a command: channel > key > command).
enum class denial : int { none = 0, command = 1, key = 2, auth = 3, channel = 4 };
// Where it happened (ACL_LOG_CTX_*).
enum class log_context : int { toplevel = 0, lua = 1, multi = 2, module = 3 };

struct log_entry {
  std::uint64_t count = 1;
  denial reason = denial::none;
  log_context context = log_context::toplevel;
  std::string object;    // command full name, key, channel, or the AUTH/HELLO word as sent
  std::string username;
  std::int64_t ctime_ms = 0;  // last update
  std::string client_info;    // CLIENT INFO line of the (last) client
};

using user_ptr = std::shared_ptr<const user>;

class registry : public std::enable_shared_from_this<registry> {
 public:
  // The default user only: "on nopass ~* &* +@all".
  registry();

  user_ptr find(std::string_view name) const;
  user_ptr default_user() const;
  std::vector<user_ptr> users() const;  // name order (Redis's radix tree order)
  std::uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }
  // authRequired()'s server half: the default user has a password or is off.
  bool default_requires_auth() const { return default_requires_auth_.load(std::memory_order_relaxed); }
  bool default_nopass() const { return default_nopass_.load(std::memory_order_relaxed); }

  // ACL SETUSER: the rules applied all or nothing to the user (created when
  // missing). Returns Redis's error text, empty on success; `before` is the
  // replaced snapshot (null for a new user), `after` the new one.
  std::string set_user(std::string_view name, std::span<const std::string_view> rules, bool pubsub_all_default,
                       user_ptr* before = nullptr, user_ptr* after = nullptr);
  // ACL DELUSER: the users removed (the default user is never removed).
  std::vector<user_ptr> delete_users(std::span<const std::string_view> names);
  // ACL LOAD: the new table replaces every user; the default user keeps its
  // identity (and its clients) and gets the new rules, or the built-in ones
  // when `users` has none. Returns the replaced non-default users.
  std::vector<user_ptr> replace_all(std::vector<user> users);
  // requirepass: the default user's passwords become this one (nopass when
  // empty), as ACLUpdateDefaultUserPassword.
  void set_default_password(std::string_view password);

  // ACL LOG.
  void log_add(log_entry e, std::size_t max_len);
  std::vector<log_entry> log_recent(std::size_t count) const;
  std::size_t log_size() const;
  void log_reset();

 private:
  void store(user u);  // under m_ (exclusive)
  void publish();      // under m_: refreshes the default user's flags, bumps the epoch

  mutable std::shared_mutex m_;
  std::map<std::string, user_ptr, std::less<>> users_;
  std::uint64_t next_uid_ = 1;
  std::atomic<std::uint64_t> epoch_{1};
  std::atomic<bool> default_requires_auth_{false};
  std::atomic<bool> default_nopass_{true};

  mutable std::mutex log_m_;
  std::deque<log_entry> log_;  // newest first
};

}  // namespace shrike::acl

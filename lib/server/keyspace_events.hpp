#pragma once
// Keyspace notification classes: the bits of notify-keyspace-events (Redis's
// NOTIFY_* values, so the flag letters map one to one).
#include <string>
#include <string_view>

namespace shrike::server::notify {

inline constexpr int keyspace = 1 << 0;  // K: __keyspace@<db>__:<key> channels
inline constexpr int keyevent = 1 << 1;  // E: __keyevent@<db>__:<event> channels
inline constexpr int generic = 1 << 2;   // g
inline constexpr int string = 1 << 3;    // $
inline constexpr int list = 1 << 4;      // l
inline constexpr int set = 1 << 5;       // s
inline constexpr int hash = 1 << 6;      // h
inline constexpr int zset = 1 << 7;      // z
inline constexpr int expired = 1 << 8;   // x
inline constexpr int evicted = 1 << 9;   // e
inline constexpr int stream = 1 << 10;   // t
inline constexpr int key_miss = 1 << 11; // m
inline constexpr int module = 1 << 13;   // d
inline constexpr int new_key = 1 << 14;  // n
// 'A': every class except key_miss and new_key.
inline constexpr int all = generic | string | list | set | hash | zset | expired | evicted | stream | module;

// "KEA" -> bits; -1 for an unknown letter (stops at a NUL, as Redis's C string).
int parse_classes(std::string_view letters);
// Bits -> Redis's canonical letters (CONFIG GET shows "AKE").
std::string classes_text(int flags);

}  // namespace shrike::server::notify

#pragma once
// The Redis version whose behaviour Shrike matches: INFO's redis_version,
// the RDB header's redis-ver, Lua's REDIS_VERSION, LOLWUT. Clients gate
// features on it.
#include <cstdint>

namespace shrike::util {

inline constexpr const char* redis_version = "7.0.15";
// As Lua's REDIS_VERSION_NUM: 0x00MMmmpp.
inline constexpr std::uint32_t redis_version_num = (7 << 16) | (0 << 8) | 15;

}  // namespace shrike::util

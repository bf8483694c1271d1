#pragma once
// SHA-1 (FIPS 180-4), for script names: EVAL's script cache is keyed by the
// lowercase hex SHA-1 of the body, and redis.sha1hex() exposes the same
// function to scripts.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace shrike::scripting {

std::array<std::uint8_t, 20> sha1(std::string_view data);

// 40 lowercase hex digits.
std::string sha1_hex(std::string_view data);

}  // namespace shrike::scripting

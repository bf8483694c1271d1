#pragma once
// Number <-> text conversions with Redis 7.0's exact rules (util.c): what
// counts as an integer argument, how doubles are printed.
#include <cstdint>
#include <string>
#include <string_view>

namespace shrike::util {

// Redis's string2ll: optional '-', no '+', no leading zeros, no blanks,
// no overflow, at most 20 characters.
bool parse_int64(std::string_view s, std::int64_t& value);

// Redis's getDoubleFromObject: strtod over the whole string, no leading blank,
// no NaN, no overflow. "inf"/"-inf" are accepted.
bool parse_double(std::string_view s, double& value);

// Redis's string2ld (INCRBYFLOAT, HINCRBYFLOAT).
bool parse_long_double(std::string_view s, long double& value);

std::string format_int64(std::int64_t v);
// Appends the decimal form of v to out (no allocation beyond out's growth).
void append_int64(std::string& out, std::int64_t v);

// "%.17g" with "inf"/"-inf": the RESP2 form of a double reply and of scores.
std::string format_double(double d);

// ld2string(LD_STR_HUMAN): "%.17Lf" with trailing zeros removed (INCRBYFLOAT).
std::string format_long_double_human(long double v);

// bytesToHuman (INFO's *_human fields): "1023B", "1.50K", "2.00M", "3.25G", "1.00T".
std::string bytes_to_human(std::uint64_t n);

}  // namespace shrike::util

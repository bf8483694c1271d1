#pragma once
// Redis-style log lines ("pid:M 21 Nov 2026 07:00:00.123 * message") to
// stdout or the `logfile`, filtered by `loglevel`.
#include <string>
#include <string_view>

namespace shrike::util {

enum class log_level { debug = 0, verbose = 1, notice = 2, warning = 3 };

void log_configure(log_level level, const std::string& file);
bool parse_log_level(std::string_view name, log_level& out);
void log(log_level level, std::string_view message);
inline void log_notice(std::string_view m) { log(log_level::notice, m); }
inline void log_warning(std::string_view m) { log(log_level::warning, m); }
inline void log_verbose(std::string_view m) { log(log_level::verbose, m); }

}  // namespace shrike::util

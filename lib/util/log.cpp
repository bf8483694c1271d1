#include "util/log.hpp"

#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <mutex>

namespace shrike::util {

namespace {
std::mutex log_mutex;
log_level min_level = log_level::notice;
std::string log_file;
}  // namespace

void log_configure(log_level level, const std::string& file) {
  std::lock_guard lock(log_mutex);
  min_level = level;
  log_file = file;
}

bool parse_log_level(std::string_view name, log_level& out) {
  if (name == "debug") out = log_level::debug;
  else if (name == "verbose") out = log_level::verbose;
  else if (name == "notice") out = log_level::notice;
  else if (name == "warning") out = log_level::warning;
  else return false;
  return true;
}

void log(log_level level, std::string_view message) {
  std::lock_guard lock(log_mutex);
  if (level < min_level) return;
  timeval tv;
  gettimeofday(&tv, nullptr);
  tm local;
  localtime_r(&tv.tv_sec, &local);
  char stamp[64];
  std::size_t n = std::strftime(stamp, sizeof(stamp), "%d %b %Y %H:%M:%S", &local);
  static const char marks[] = ".-*#";
  FILE* out = stdout;
  if (!log_file.empty()) out = std::fopen(log_file.c_str(), "a");
  if (!out) return;
  std::fprintf(out, "%d:M %.*s.%03d %c %.*s\n", static_cast<int>(getpid()), static_cast<int>(n), stamp,
               static_cast<int>(tv.tv_usec / 1000), marks[static_cast<int>(level)], static_cast<int>(message.size()),
               message.data());
  std::fflush(out);
  if (out != stdout) std::fclose(out);
}

}  // namespace shrike::util

#pragma once
// The server's command line (Boost.Program_options), with redis-server's
// option names, and the JSON config file it may name.
//
//   shrike-server [FILE.json] [--config FILE.json] [--<parameter> value...]...
//
// Every parameter of the config_store is an option: `--port 6380`,
// `--save ""`, `--save` (alone: no saving, as redis-server takes it),
// `--replicaof HOST PORT` or `--replicaof "HOST PORT"`,
// `--list-max-listpack-size -2`, `--port=6380`. An option takes every word up
// to the next one starting with "--", as redis-server does; names are
// case-insensitive; aliases work. Several `--save` accumulate (as several
// `save` lines of redis.conf do; an empty one clears what came before).
//
// The JSON file is an object with the parameters' names (or aliases) as keys:
// strings, numbers and booleans (true/false -> yes/no) give the textual
// value; a multi-word parameter may also be an array ("replicaof":
// ["host", 6380], "save": [3600, 1]). The file is applied first, then the
// command line, so flags override the file. Its absolute path becomes the
// store's config file (CONFIG REWRITE).
//
// Problems end the launch: exit_code 1, exit_now, and `output` is one line
// (no trailing newline) naming the option, the value and the file, with the
// line and column in the file where they are known, e.g.
//   shrike-server: invalid value 'abc' for 'port' in config.json at line 2, column 3: argument couldn't be parsed into an integer
// --help and --version: exit_code 0, exit_now, `output` is the text for stdout
// (no trailing newline).
#include <string>

#include "server/config_store.hpp"

namespace shrike::server {

struct launch_result {
  int exit_code = 0;
  bool exit_now = false;
  std::string output;  // --help/--version text, or the one-line error (for stderr)
};

launch_result parse_launch_options(int argc, const char* const* argv, config_store& cfg);

}  // namespace shrike::server

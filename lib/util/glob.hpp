#pragma once
// Glob matching with exactly Redis 7.0's rules (util.c stringmatchlen), used by
// KEYS, SCAN MATCH, CONFIG GET and pub/sub patterns: '*', '?', '[abc]',
// '[^a]', '[a-z]' (reversed ranges allowed), '\' escapes; an unterminated '['
// matches up to the end of the pattern. Bytes compare as signed chars, as C does.
#include <string_view>

namespace shrike::util {

bool glob_match(std::string_view pattern, std::string_view str, bool nocase = false);

}  // namespace shrike::util

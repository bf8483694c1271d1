#pragma once
// Redis's sdssplitargs(): the words of a config line, a script's shebang
// line, ... separated by blanks; "double quotes" take C escapes (\n \xHH
// ...), 'single quotes' take \'. A closing quote must be followed by a blank
// or the end.
#include <string>
#include <string_view>
#include <vector>

namespace shrike::util {

// Replaces `out` with the words of `s`; false on unbalanced quotes.
bool split_args(std::string_view s, std::vector<std::string>& out);

}  // namespace shrike::util

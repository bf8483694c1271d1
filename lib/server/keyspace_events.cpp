#include "server/keyspace_events.hpp"

namespace shrike::server::notify {

int parse_classes(std::string_view classes) {
  int flags = 0;
  for (char c : classes.substr(0, classes.find('\0'))) {
    switch (c) {
      case 'A': flags |= all; break;
      case 'g': flags |= generic; break;
      case '$': flags |= string; break;
      case 'l': flags |= list; break;
      case 's': flags |= set; break;
      case 'h': flags |= hash; break;
      case 'z': flags |= zset; break;
      case 'x': flags |= expired; break;
      case 'e': flags |= evicted; break;
      case 'K': flags |= keyspace; break;
      case 'E': flags |= keyevent; break;
      case 't': flags |= stream; break;
      case 'm': flags |= key_miss; break;
      case 'd': flags |= module; break;
      case 'n': flags |= new_key; break;
      default: return -1;
    }
  }
  return flags;
}

std::string classes_text(int flags) {
  std::string res;
  if ((flags & all) == all) {
    res += 'A';
  } else {
    static constexpr std::pair<int, char> classes[] = {
        {generic, 'g'}, {string, '$'},  {list, 'l'},    {set, 's'},
        {hash, 'h'},    {zset, 'z'},    {expired, 'x'}, {evicted, 'e'},
        {stream, 't'},  {module, 'd'},  {new_key, 'n'}};
    for (auto [flag, c] : classes)
      if (flags & flag) res += c;
  }
  if (flags & keyspace) res += 'K';
  if (flags & keyevent) res += 'E';
  if (flags & key_miss) res += 'm';
  return res;
}

}  // namespace shrike::server::notify

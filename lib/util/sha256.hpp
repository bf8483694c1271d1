#pragma once
// SHA-256 (FIPS 180-4): ACL passwords are kept as the hex digest of the
// clear text, as Redis keeps them (#<hash> rules, ACL GETUSER, the aclfile).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace shrike::util {

class sha256 {
 public:
  sha256();
  void update(std::string_view data);
  std::array<std::uint8_t, 32> finish();  // the object is spent afterwards

 private:
  void block(const std::uint8_t* p);

  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buf_{};
  std::size_t used_ = 0;      // bytes in buf_
  std::uint64_t total_ = 0;   // bytes hashed so far
};

// The digest of `data` as 64 lower-case hex characters.
std::string sha256_hex(std::string_view data);

}  // namespace shrike::util

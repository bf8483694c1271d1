// LOLWUT [VERSION v] [args...]: Redis's computer art. Redis 7.0's own
// version draws nothing and names the version; VERSION 5 draws Georg Nees's
// "Schotter" (squares that tilt and drift more row by row) in Braille
// characters, VERSION 6 a city skyline in terminal colours. The art is
// random past Schotter's first two rows, as in Redis.
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "commands/command_table.hpp"
#include "commands/helpers.hpp"
#include "util/version.hpp"

namespace shrike::commands {
namespace {

// A grid of colour indexes; drawing outside it is ignored, reading outside
// it gives 0.
class canvas {
 public:
  canvas(int width, int height, std::uint8_t background)
      : width_(width), height_(height), pixels_(static_cast<std::size_t>(width) * static_cast<std::size_t>(height), background) {}
  int width() const { return width_; }
  int height() const { return height_; }
  void set(int x, int y, std::uint8_t color) {
    if (inside(x, y)) pixels_[index(x, y)] = color;
  }
  std::uint8_t get(int x, int y) const { return inside(x, y) ? pixels_[index(x, y)] : 0; }

  // Bresenham's line, both ends included.
  void line(int x1, int y1, int x2, int y2, std::uint8_t color) {
    const int dx = std::abs(x2 - x1), dy = std::abs(y2 - y1);
    const int step_x = x1 < x2 ? 1 : -1, step_y = y1 < y2 ? 1 : -1;
    int err = dx - dy;
    for (;;) {
      set(x1, y1, color);
      if (x1 == x2 && y1 == y2) return;
      const int e2 = err * 2;
      if (e2 > -dy) {
        err -= dy;
        x1 += step_x;
      }
      if (e2 < dx) {
        err += dx;
        y1 += step_y;
      }
    }
  }

  // A square of side `side` centred on (cx, cy), turned by `angle` radians:
  // its corners lie on the circle through them, a quarter turn apart.
  void square(int cx, int cy, float side, float angle, std::uint8_t color) {
    const float radius = std::round(side / 1.4142135623f);
    int px[4], py[4];
    float k = static_cast<float>(M_PI / 4) + angle;
    for (int j = 0; j < 4; ++j) {
      px[j] = static_cast<int>(std::round(std::sin(k) * radius + static_cast<float>(cx)));
      py[j] = static_cast<int>(std::round(std::cos(k) * radius + static_cast<float>(cy)));
      k += static_cast<float>(M_PI / 2);
    }
    for (int j = 0; j < 4; ++j) line(px[j], py[j], px[(j + 1) % 4], py[(j + 1) % 4], color);
  }

 private:
  bool inside(int x, int y) const { return x >= 0 && x < width_ && y >= 0 && y < height_; }
  std::size_t index(int x, int y) const {
    return static_cast<std::size_t>(x) + static_cast<std::size_t>(y) * static_cast<std::size_t>(width_);
  }
  int width_, height_;
  std::vector<std::uint8_t> pixels_;
};

std::mt19937& random_source() {
  thread_local std::mt19937 gen{std::random_device{}()};
  return gen;
}
float random_unit() { return std::uniform_real_distribution<float>(0.0f, 1.0f)(random_source()); }
int random_below(int n) { return n <= 0 ? 0 : std::uniform_int_distribution<int>(0, n - 1)(random_source()); }

// Optional integer arguments from position `first`, each clamped to its range.
bool clamped_args(command_context& ctx, std::size_t first, std::initializer_list<std::pair<std::int64_t*, std::int64_t>> args) {
  std::size_t i = first;
  for (auto [value, max] : args) {
    if (i < ctx.argc() && !int_arg(ctx, i, *value)) return false;
    *value = std::clamp<std::int64_t>(*value, 1, max);
    ++i;
  }
  return true;
}

// Eight pixels (2 wide, 4 tall) per Braille character, U+2800 + dot bits.
std::string braille(const canvas& c) {
  std::string text;
  for (int y = 0; y < c.height(); y += 4) {
    for (int x = 0; x < c.width(); x += 2) {
      static constexpr int dots[8][2] = {{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}, {1, 2}, {0, 3}, {1, 3}};
      int bits = 0;
      for (int d = 0; d < 8; ++d)
        if (c.get(x + dots[d][0], y + dots[d][1])) bits |= 1 << d;
      const int code = 0x2800 + bits;
      text += static_cast<char>(0xE0 | (code >> 12));
      text += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      text += static_cast<char>(0x80 | (code & 0x3F));
    }
    if (y != c.height() - 1) text += '\n';
  }
  return text;
}

void schotter(command_context& ctx, std::size_t first) {
  std::int64_t cols = 66, per_row = 8, per_col = 12;
  if (!clamped_args(ctx, first, {{&cols, 1000}, {&per_row, 200}, {&per_col, 200}})) return;
  const int width = static_cast<int>(cols) * 2;
  const int padding = width > 4 ? 2 : 0;
  const float side = static_cast<float>(width - padding * 2) / static_cast<float>(per_row);
  canvas c(width, static_cast<int>(side * static_cast<float>(per_col) + static_cast<float>(padding * 2)), 0);
  for (int y = 0; y < per_col; ++y) {
    for (int x = 0; x < per_row; ++x) {
      int cx = static_cast<int>(static_cast<float>(x) * side + side / 2 + static_cast<float>(padding));
      int cy = static_cast<int>(static_cast<float>(y) * side + side / 2 + static_cast<float>(padding));
      float angle = 0;
      if (y > 1) {  // the disorder grows with the row
        float turn = random_unit() / static_cast<float>(per_col) * static_cast<float>(y);
        float dx = random_unit() / static_cast<float>(per_col) * static_cast<float>(y);
        float dy = random_unit() / static_cast<float>(per_col) * static_cast<float>(y);
        if (random_below(2)) turn = -turn;
        if (random_below(2)) dx = -dx;
        if (random_below(2)) dy = -dy;
        angle = turn;
        cx += static_cast<int>(dx * side / 3);
        cy += static_cast<int>(dy * side / 3);
      }
      c.square(cx, cy, side, angle, 1);
    }
  }
  ctx.out.verbatim(braille(c) + "\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. " +
                   std::string(util::redis_version) + "\n");
}

// Colours 0 black, 1 and 2 greys, 3 white; each pixel one coloured blank.
std::string ansi_blocks(const canvas& c) {
  static constexpr const char* escapes[] = {"0;30;40m", "0;90;100m", "0;37;47m", "0;97;107m"};
  std::string text;
  for (int y = 0; y < c.height(); ++y) {
    for (int x = 0; x < c.width(); ++x) {
      const std::uint8_t color = c.get(x, y);
      text += "\033[";
      text += escapes[color < 4 ? color : 0];
      text += " \033[0m";
    }
    if (y != c.height() - 1) text += '\n';
  }
  return text;
}

struct building {
  int left, width, height;
  bool windows;
  std::uint8_t color;
};

// From the bottom row up; the roof row is two pixels narrower on each side.
// Windows are two pixels wide, one tall, in one of the other greys.
void draw_building(canvas& c, const building& b) {
  const int bottom = c.height() - 1, top = bottom - b.height + 1;
  for (int y = bottom; y >= top; --y) {
    for (int x = b.left; x < b.left + b.width; ++x) {
      if (y == top && (x <= b.left + 1 || x >= b.left + b.width - 2)) continue;
      std::uint8_t color = b.color;
      if (b.windows && x > b.left + 1 && x < b.left + b.width - 2 && y > top + 1 && y < bottom - 1) {
        const int rel_x = x - (b.left + 1), rel_y = y - (top + 1);
        if ((rel_x / 2) % 2 && rel_y % 2) {
          do color = static_cast<std::uint8_t>(1 + random_below(2));
          while (color == b.color);
          if (rel_x % 2) color = c.get(x - 1, y);
        }
      }
      c.set(x, y, color);
    }
  }
}

void skyline(command_context& ctx, std::size_t first) {
  std::int64_t cols = 80, rows = 20;
  if (!clamped_args(ctx, first, {{&cols, 1000}, {&rows, 1000}})) return;
  canvas c(static_cast<int>(cols), static_cast<int>(rows), 3);
  const int h = c.height();
  // Two rows of windowless buildings behind, the lighter grey farthest.
  for (int color = 2; color >= 1; --color) {
    for (int offset = -10; offset < c.width();) {
      offset += random_below(8);
      building b{offset, 10 + random_below(9), 0, false, static_cast<std::uint8_t>(color)};
      b.height = h / 2 + random_below(h) / (color == 2 ? 2 : 3);
      draw_building(c, b);
      offset += color == 2 ? b.width / 2 : b.width + 1;
    }
  }
  // Black buildings with lit windows in front.
  for (int offset = -10; offset < c.width();) {
    offset += random_below(8);
    building b{offset, 5 + random_below(14), 0, true, 0};
    if (b.width % 4) b.width += b.width % 3;
    b.height = h / 3 + random_below(h) / 2;
    draw_building(c, b);
    offset += b.width + 5;
  }
  ctx.out.verbatim(ansi_blocks(c) +
                   "\nDedicated to the 8 bit game developers of past and present.\n"
                   "Original 8 bit image from Plaguemon by hikikomori. Redis ver. " +
                   std::string(util::redis_version) + "\n");
}

void cmd_lolwut(command_context& ctx) {
  std::size_t first = 1;  // where the art's own arguments start
  std::uint32_t version = 0;
  if (ctx.argc() >= 3 && iequals(ctx.arg(1), "version")) {
    std::int64_t v;
    if (!int_arg(ctx, 2, v)) return;
    version = static_cast<std::uint32_t>(v);  // Redis prints it as unsigned
    first = 3;
  }
  if (version == 5) return schotter(ctx, first);
  if (version == 6) return skyline(ctx, first);
  ctx.out.verbatim("Redis ver. " + std::string(util::redis_version) + "\n");
}

}  // namespace

void register_lolwut_command(command_table& t) { t.add("lolwut", exec_kind::local, cmd_lolwut); }

}  // namespace shrike::commands

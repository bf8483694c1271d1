#pragma once
// A move-only std::function<void()> (std::move_only_function is C++23): the
// shard gate queues completion handlers, which cannot be copied.
#include <memory>
#include <utility>

namespace shrike::util {

class unique_function {
 public:
  unique_function() = default;
  template <class F>
  unique_function(F f) : impl_(std::make_unique<model<F>>(std::move(f))) {}  // NOLINT: implicit by design

  void operator()() { impl_->call(); }
  explicit operator bool() const { return impl_ != nullptr; }

 private:
  struct concept_t {
    virtual ~concept_t() = default;
    virtual void call() = 0;
  };
  template <class F>
  struct model final : concept_t {
    explicit model(F f) : fn(std::move(f)) {}
    void call() override { fn(); }
    F fn;
  };
  std::unique_ptr<concept_t> impl_;
};

}  // namespace shrike::util

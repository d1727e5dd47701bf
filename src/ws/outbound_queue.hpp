// The messages waiting for one connection's writer, in order, and how many bytes they hold.
//
// - Bytes count the events that wait, not what the writer is sending, and never the agent's own
//   register_agent_response: in a large organization (≈ 200 bytes per online peer) that answer
//   alone can pass the limit, waiting or being written, and the events queued behind it must not
//   make the newcomer look like a slow consumer. Its size is the organization's, not the reader's.
// - Nothing is held while empty: a std::deque allocates ~600 bytes as soon as it is constructed,
//   for every idle agent; this queue keeps a small vector's capacity at most.
#pragma once

#include "signaling/messages.hpp"

#include <cstddef>
#include <utility>
#include <vector>

namespace sig::ws {

class outbound_queue {
 public:
  bool empty() const noexcept { return head_ == items_.size(); }
  std::size_t bytes() const noexcept { return bytes_; }

  void push(signaling::shared_message message) {
    bytes_ += counted_size(*message);
    items_.push_back(std::move(message));
  }

  /// The oldest message; the queue must not be empty.
  const signaling::shared_message& front() const noexcept { return items_[head_]; }

  /// Takes the oldest message out; the queue must not be empty.
  signaling::shared_message pop() {
    signaling::shared_message message = std::move(items_[head_++]);
    bytes_ -= counted_size(*message);
    if (empty()) reset();
    return message;
  }

  void clear() {
    bytes_ = 0;
    reset();
  }

 private:
  // A burst's capacity is given back once drained; a few slots stay for the next message.
  static constexpr std::size_t kept_capacity = 8;

  static std::size_t counted_size(const signaling::outbound_message& message) noexcept {
    return message.kind == signaling::outbound_kind::registered ? 0 : message.text.size();
  }

  void reset() {
    items_.clear();
    head_ = 0;
    if (items_.capacity() > kept_capacity) items_.shrink_to_fit();
  }

  std::vector<signaling::shared_message> items_;  // [head_, end) wait; before head_: taken
  std::size_t head_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace sig::ws

// The output side of an agent's WebSocket connection: the bounded queue, the writer coroutine
// (messages, server pings, liveness deadlines) and closing. See ws_session.hpp. Included by
// ws_session.ipp.
#pragma once

#include "ws/close_codes.hpp"
#include "ws/ws_session.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sig::ws {
// Messages from other threads wait in the inbox; one posted drain moves a whole burst to the
// queue, instead of one hand-off to the strand per message (a join in a large organization sends
// one message to every member at once).
template <class Stream>
void ws_session<Stream>::deliver(signaling::shared_message message) {
  bool post_drain = false;
  {
    std::lock_guard lock(inbox_mutex_);
    inbox_.push_back(std::move(message));
    post_drain = !drain_posted_;
    drain_posted_ = true;
  }
  if (post_drain) asio::post(ws_.get_executor(), [self = this->shared_from_this()] { self->drain_inbox(); });
}

template <class Stream>
void ws_session<Stream>::drain_inbox() {
  std::vector<signaling::shared_message> arrived;
  {
    std::lock_guard lock(inbox_mutex_);
    arrived.swap(inbox_);
    drain_posted_ = false;
  }
  for (auto& message : arrived) enqueue(std::move(message));
}

template <class Stream>
void ws_session<Stream>::disconnect(signaling::close_reason reason) {
  asio::post(ws_.get_executor(), [self = this->shared_from_this(), reason] {
    // What was queued before (its register_agent_response, say) still goes out before the close.
    const close_cause cause = close_cause_of(reason);
    self->close(cause.code, cause.reason, reason != signaling::close_reason::shutting_down);
  });
}

template <class Stream>
void ws_session<Stream>::enqueue(signaling::shared_message message) {
  if (closing_ || finished_) return;
  // One message larger than the limit still goes out alone; a queue that grows past the limit
  // belongs to a peer that does not keep up. What the writer is sending already is not counted
  // (see outbound_queue.hpp).
  if (!queue_.empty() && queue_.bytes() + message->text.size() > context_.options.queue_limit) {
    spdlog::info("dropping slow consumer {} ({} bytes queued)", registered_ ? registered_->peer_id : "?",
                 queue_.bytes());
    context_.metrics.ws_slow_consumer_dropped();
    presence_.end();
    const close_cause cause = close_cause_of(signaling::close_reason::slow_consumer);
    return close(cause.code, cause.reason, false);
  }
  queue_.push(std::move(message));
  wake_writer();
}

template <class Stream>
void ws_session<Stream>::send_error(std::string_view error) {
  enqueue(signaling::error_message(error));
}

template <class Stream>
void ws_session<Stream>::refuse(std::string_view error) {
  send_error(error);
  close(websocket::close_code::policy_error, "", true);
}

template <class Stream>
void ws_session<Stream>::close(websocket::close_code code, std::string_view reason, bool drain) {
  if (closing_ || finished_) return;
  closing_ = websocket::close_reason(code, reason);
  drain_before_close_ = drain;
  if (!drain) queue_.clear();
  wake_writer();
}

template <class Stream>
void ws_session<Stream>::abort() {
  finished_ = true;
  detail::drop_transport(beast::get_lowest_layer(ws_));
  wake_writer();
}

// Only a writer that waits needs waking: a busy one looks at the queue and the closing state
// before it waits again (all on the strand). Cancelling costs the reactor's timer lock, which
// every thread shares, and a join in a large organization enqueues on every member at once.
template <class Stream>
void ws_session<Stream>::wake_writer() {
  if (writer_waiting_) wake_.cancel();
}

// Every operation of the writer is bounded: a peer that takes no data at all (full TCP window), or
// a stream stuck after a protocol failure, would otherwise hold the connection, and its presence,
// forever. Missing the deadline ends the TCP connection, which fails every pending operation. The
// timer is armed once per busy period, not per frame: when it fires during a later send, it waits
// for that send's own deadline.
template <class Stream>
void ws_session<Stream>::begin_send(std::chrono::milliseconds limit) {
  send_started_ = clock::now();
  send_limit_ = limit;
  if (!send_watch_armed_) watch_send();
}

template <class Stream>
void ws_session<Stream>::end_send() {
  send_started_.reset();
}

template <class Stream>
void ws_session<Stream>::watch_send() {
  send_watch_armed_ = true;
  send_deadline_.expires_at(*send_started_ + send_limit_);
  send_deadline_.async_wait([weak = this->weak_from_this()](const beast::error_code& ec) {
    const auto self = weak.lock();
    if (!self) return;
    self->send_watch_armed_ = false;
    if (ec || !self->send_started_) return;
    if (clock::now() >= *self->send_started_ + self->send_limit_) return self->abort();
    self->watch_send();
  });
}

// Liveness runs on its own timer, not in the writer: a writer busy with a slow peer (for up to
// the send timeout) must not delay the registration deadline or the idle timeout.
template <class Stream>
void ws_session<Stream>::watch_liveness() {
  const ws_options& options = context_.options;
  const auto now = clock::now();
  if (closing_ || finished_) return;
  if (!first_message_seen_ && now >= opened_at_ + options.register_timeout)
    return refuse(signaling::errors::registration_timeout);
  if (registered_ && now >= last_inbound_ + options.idle_timeout) {
    spdlog::debug("peer {} idle: closing", registered_->peer_id);
    presence_.end();
    return close(websocket::close_code::normal, "idle timeout", false);
  }
  // Registering (the lookup in progress) has neither deadline; the registration re-arms this.
  auto deadline = clock::time_point::max();
  if (!first_message_seen_) deadline = opened_at_ + options.register_timeout;
  if (registered_) deadline = last_inbound_ + options.idle_timeout;
  liveness_.expires_at(deadline);
  liveness_.async_wait([weak = this->weak_from_this()](const beast::error_code& ec) {
    if (const auto self = weak.lock(); self && !ec) self->watch_liveness();
  });
}

template <class Stream>
asio::awaitable<void> ws_session<Stream>::write_loop() {
  const ws_options& options = context_.options;
  while (!finished_) {
    if (!queue_.empty()) {
      // Beast closing on its own (the peer broke the protocol): nothing more may follow its close.
      if (!ws_.is_open()) {
        abort();
        break;
      }
      // What is queued goes out as frames in one write (see write_gatherer.hpp), not a system
      // call per message.
      std::string frames;
      std::vector<signaling::outbound_kind> sent;
      while (!queue_.empty() &&
             (frames.empty() || frames.size() + queue_.front()->text.size() <= detail::max_gathered_bytes)) {
        const signaling::shared_message message = queue_.pop();
        append_text_frame(frames, message->text);
        sent.push_back(message->kind);
      }
      begin_send(options.send_timeout);
      auto [ec, bytes] = co_await ws_.next_layer().async_send_frames(asio::buffer(frames), detail::as_result);
      end_send();
      if (ec) {
        abort();
        break;
      }
      for (const auto kind : sent) context_.metrics.ws_sent(static_cast<std::size_t>(kind));
      messages_out_ += sent.size();
      bytes_out_ += bytes;
      continue;
    }
    if (closing_) {
      begin_send(options.close_timeout);
      co_await ws_.async_close(*closing_, detail::as_result);
      end_send();
      break;
    }
    const auto now = clock::now();
    if (registered_ && now >= ice_refresh_at_) {
      enqueue(signaling::ice_servers_message(issue_ice_servers()));  // sets the next refresh
      continue;
    }
    if (registered_ && now >= next_ping_) {
      next_ping_ = now + options.ping_interval;
      begin_send(options.send_timeout);
      auto [ec] = co_await ws_.async_ping({}, detail::as_result);
      end_send();
      if (ec) {
        abort();
        break;
      }
      continue;
    }
    wake_.expires_at(registered_ ? std::min(next_ping_, ice_refresh_at_) : clock::time_point::max());
    writer_waiting_ = true;
    co_await wake_.async_wait(detail::as_result);
    writer_waiting_ = false;
  }
  finished_ = true;
  liveness_.cancel();
  send_deadline_.cancel();
  registration_.reset();
  context_.metrics.ws_closed();
}

}  // namespace sig::ws

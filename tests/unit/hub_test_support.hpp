// Helpers of the hub tests: a fake connection that records what it is sent, and peers with
// increasing registration epochs.
#pragma once

#include "signaling/hub.hpp"

#include "domain/ipv4.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace hub_testing {

using namespace sig;
using namespace sig::signaling;
namespace json = boost::json;

// Records deliveries and disconnects; thread-safe like the real session.
class fake_connection final : public peer_connection {
 public:
  void deliver(shared_message message) override {
    std::lock_guard lock(mutex_);
    messages_.push_back(json::parse(message->text).as_object());
  }
  void disconnect(close_reason reason) override {
    std::lock_guard lock(mutex_);
    closes_.push_back(reason);
  }
  std::vector<json::object> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  std::vector<close_reason> closes() const {
    std::lock_guard lock(mutex_);
    return closes_;
  }
  std::vector<std::string> types() const {
    std::vector<std::string> names;
    for (const auto& m : messages()) names.emplace_back(m.at("type").as_string());
    return names;
  }
  json::object last() const { return messages().back(); }

 private:
  mutable std::mutex mutex_;
  std::vector<json::object> messages_;
  std::vector<close_reason> closes_;
};

// Records what a hub publishes.
class recording_bus final : public presence_bus {
 public:
  void publish(const presence_event& event) override {
    std::lock_guard lock(mutex_);
    events.push_back(event);
  }
  std::vector<presence_event> events;

 private:
  std::mutex mutex_;
};

inline const domain::cidr subnet = *domain::parse_cidr("10.0.0.0/24");

inline peer_info make_peer(domain::id organization, const std::string& address, const std::string& peer_id,
                           domain::id user = 1, const std::string& connection = "") {
  peer_info peer;
  peer.peer_id = peer_id;
  peer.user_id = user;
  peer.email = "user" + std::to_string(user) + "@example.com";
  peer.agent_id = peer_id;
  peer.reachable = {"203.0.113.1", 50000, std::nullopt, std::nullopt};
  peer.organization_id = organization;
  peer.virtual_ip = *domain::parse_ipv4(address);
  peer.connection_id = connection.empty() ? peer_id + "-" + address : connection;
  static std::atomic<domain::epoch> last_registration{0};
  peer.registration = ++last_registration;  // each registration is later than the ones before
  return peer;
}

struct online {
  std::shared_ptr<fake_connection> connection = std::make_shared<fake_connection>();
  peer_info peer;
};

/// Joins with the peer's own epoch as its ticket, as a cluster process does.
inline online join(hub& h, const peer_info& peer) {
  online o{std::make_shared<fake_connection>(), peer};
  if (const auto epoch = h.join(o.connection, peer, subnet, peer.registration)) o.peer.registration = *epoch;
  return o;
}

}  // namespace hub_testing

// The queue of messages waiting for a connection's writer (ws/outbound_queue.hpp): first in, first
// out, through bursts and partial drains, with a byte count that is exactly what still waits.
#include "ws/outbound_queue.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace {

using sig::signaling::outbound_kind;
using sig::signaling::outbound_message;
using sig::signaling::shared_message;
using sig::ws::outbound_queue;

shared_message message_of(std::string text, outbound_kind kind = outbound_kind::peer_online) {
  return std::make_shared<const outbound_message>(outbound_message{kind, std::move(text)});
}

TEST(OutboundQueue, StartsEmptyWithNoBytes) {
  const outbound_queue queue;
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.bytes(), 0u);
}

TEST(OutboundQueue, GivesMessagesBackInOrderAndCountsWhatStillWaits) {
  outbound_queue queue;
  queue.push(message_of("a"));
  queue.push(message_of("bb"));
  queue.push(message_of("cccc"));
  EXPECT_EQ(queue.bytes(), 7u);
  EXPECT_EQ(queue.front()->text, "a");
  EXPECT_EQ(queue.pop()->text, "a");
  EXPECT_EQ(queue.bytes(), 6u);  // a message taken by the writer no longer counts
  EXPECT_EQ(queue.pop()->text, "bb");
  EXPECT_EQ(queue.pop()->text, "cccc");
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.bytes(), 0u);
}

TEST(OutboundQueue, KeepsOrderWhenMessagesArriveDuringADrain) {
  outbound_queue queue;
  int next_in = 0;
  int next_out = 0;
  // Bursts larger than the capacity it keeps, drained part-way between them.
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < round % 13 + 1; ++i) queue.push(message_of(std::to_string(next_in++)));
    for (int i = 0; i < round % 7 && !queue.empty(); ++i) EXPECT_EQ(queue.pop()->text, std::to_string(next_out++));
  }
  std::size_t waiting_bytes = 0;
  for (int i = next_out; i < next_in; ++i) waiting_bytes += std::to_string(i).size();
  EXPECT_EQ(queue.bytes(), waiting_bytes);
  while (!queue.empty()) EXPECT_EQ(queue.pop()->text, std::to_string(next_out++));
  EXPECT_EQ(next_out, next_in);
  EXPECT_EQ(queue.bytes(), 0u);
}

// A large organization's answer waits at the head of the queue while events arrive behind it:
// only the events count toward the slow-consumer limit.
TEST(OutboundQueue, TheAgentsOwnRegistrationAnswerIsNotCounted) {
  outbound_queue queue;
  queue.push(message_of(std::string(2 * 1024 * 1024, 'p'), outbound_kind::registered));
  EXPECT_EQ(queue.bytes(), 0u);
  queue.push(message_of("online"));
  EXPECT_EQ(queue.bytes(), 6u);
  EXPECT_EQ(queue.pop()->kind, outbound_kind::registered);
  EXPECT_EQ(queue.bytes(), 6u);
  EXPECT_EQ(queue.pop()->text, "online");
  EXPECT_EQ(queue.bytes(), 0u);
}

TEST(OutboundQueue, ClearDropsEverythingAndTheQueueStaysUsable) {
  outbound_queue queue;
  for (int i = 0; i < 20; ++i) queue.push(message_of("xyz"));
  (void)queue.pop();
  queue.clear();
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.bytes(), 0u);
  queue.push(message_of("after"));
  EXPECT_EQ(queue.bytes(), 5u);
  EXPECT_EQ(queue.pop()->text, "after");
}

}  // namespace

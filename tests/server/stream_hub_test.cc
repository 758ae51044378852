#include "server/stream_hub.h"

#include <gtest/gtest.h>

namespace ctxd::server {
namespace {

engine::Event EventOf(uint64_t seq, std::string actor) {
  engine::Event event;
  event.seq = seq;
  event.ts_us = 1'700'000'000'000'000 + static_cast<int64_t>(seq);
  event.actor = std::move(actor);
  event.command_id = "c" + std::to_string(seq);
  return event;
}

// Each event is rendered in exactly the forms asked for: what a subscriber
// takes is what BuildEventFrame gives, and an event nobody takes is not
// serialized at all (the frame is empty; a late subscriber builds its own).
// The events of the commits it covers are shared with the store, not copied.
TEST(RenderEventBatchTest, RendersEachEventOnlyInTheFormsWanted) {
  const std::vector<engine::Event> events = {EventOf(1, "ws"), EventOf(2, "sse"), EventOf(3, "both"),
                                             EventOf(4, "none")};
  const std::vector<store::Store::CommittedEvents> commits = {
      std::make_shared<const std::vector<engine::Event>>(events.begin(), events.begin() + 1),
      std::make_shared<const std::vector<engine::Event>>(events.begin() + 1, events.end())};
  auto batch = RenderEventBatch(commits, [](const engine::Event& event) {
    return WantedForms{event.actor == "ws" || event.actor == "both",
                       event.actor == "sse" || event.actor == "both"};
  });
  ASSERT_EQ(batch->events.size(), 4u);
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(*batch->events[i].event, events[i]);
  EXPECT_EQ(batch->events[0].event, commits[0]->data());
  EXPECT_EQ(batch->events[1].event, commits[1]->data());
  auto frame = [&](StreamFormat format, size_t i) {
    return std::string(batch->Frame(format, batch->events[i]));
  };
  EXPECT_EQ(frame(StreamFormat::kWebSocket, 0), BuildEventFrame(StreamFormat::kWebSocket, events[0]));
  EXPECT_EQ(frame(StreamFormat::kSse, 0), "");
  EXPECT_EQ(frame(StreamFormat::kWebSocket, 1), "");
  EXPECT_EQ(frame(StreamFormat::kSse, 1), BuildEventFrame(StreamFormat::kSse, events[1]));
  EXPECT_EQ(frame(StreamFormat::kWebSocket, 2), BuildEventFrame(StreamFormat::kWebSocket, events[2]));
  EXPECT_EQ(frame(StreamFormat::kSse, 2), BuildEventFrame(StreamFormat::kSse, events[2]));
  EXPECT_EQ(frame(StreamFormat::kWebSocket, 3), "");
  EXPECT_EQ(frame(StreamFormat::kSse, 3), "");
  // Consecutive frames lie back to back in one buffer.
  EXPECT_EQ(batch->ws, frame(StreamFormat::kWebSocket, 0) + frame(StreamFormat::kWebSocket, 2));
  EXPECT_EQ(batch->sse, frame(StreamFormat::kSse, 1) + frame(StreamFormat::kSse, 2));
}

}  // namespace
}  // namespace ctxd::server

// One LISTEN connection to PostgreSQL (cluster_store.hpp's notification_listener): waits on the
// connection's socket for notifications, and reads back the payloads that were too long for
// NOTIFY and travelled through the cluster_messages table.
#pragma once

#include "store/cluster_store.hpp"
#include "store/postgres/pg_connection.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace sig::store::postgres {

/// A notification whose payload is this marker followed by a cluster_messages id.
inline constexpr std::string_view stashed_marker = "@stashed:";

class pg_listener final : public notification_listener {
 public:
  /// Connects and listens on `channels`. Throws store_unavailable.
  pg_listener(const std::string& conninfo, const std::vector<std::string>& channels);

  std::vector<notification> wait(std::chrono::milliseconds timeout) override;
  std::vector<domain::peer_info> presence_snapshot() override;
  std::pair<std::size_t, std::int64_t> presence_checksum(domain::process_id self) override;

 private:
  /// Moves what libpq has received into `arrived`, reading stashed payloads back.
  void collect(std::vector<notification>& arrived);

  pg_connection connection_;
};

}  // namespace sig::store::postgres

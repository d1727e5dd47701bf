// Metrics recording and exposition; see metrics.hpp.
#include "telemetry/metrics.hpp"

#include <algorithm>
#include <cstdio>

namespace sig::telemetry {
namespace {

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// Label values here are route patterns, methods and message types: no quotes, backslashes or
// newlines to escape, but escape anyway so that the output stays valid whatever the table holds.
std::string escaped(std::string_view value) {
  std::string text;
  for (const char c : value) {
    if (c == '\\' || c == '"') text.push_back('\\');
    if (c == '\n') {
      text += "\\n";
      continue;
    }
    text.push_back(c);
  }
  return text;
}

std::string number(double value) {
  char text[32];
  const int n = std::snprintf(text, sizeof text, "%.9g", value);
  return std::string(text, n > 0 ? static_cast<std::size_t>(n) : 0);
}

void sample(std::string& out, std::string_view name, std::string_view labels, std::string_view value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

}  // namespace

labelled_counter::labelled_counter(std::string name, std::string help, std::string label,
                                   std::vector<std::string> values)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_(std::move(label)),
      values_(std::move(values)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(values_.size())) {}

void labelled_counter::increment(std::size_t value_index, std::uint64_t by) noexcept {
  if (value_index < values_.size()) counts_[value_index].fetch_add(by, std::memory_order_relaxed);
}

std::uint64_t labelled_counter::value(std::size_t value_index) const noexcept {
  return value_index < values_.size() ? counts_[value_index].load(std::memory_order_relaxed) : 0;
}

void labelled_counter::render(std::string& out) const {
  header(out, name_, "counter", help_);
  for (std::size_t i = 0; i < values_.size(); ++i)
    sample(out, name_, label_ + "=\"" + escaped(values_[i]) + "\"", std::to_string(value(i)));
}

metrics::metrics(std::vector<route_label> routes, std::vector<std::string> ws_received,
                 std::vector<std::string> ws_sent)
    : routes_(std::move(routes)),
      received_("signaling_ws_messages_received_total", "WebSocket messages received, by type", "type",
                std::move(ws_received)),
      sent_("signaling_ws_messages_sent_total", "WebSocket messages sent, by type", "type", std::move(ws_sent)) {
  routes_.push_back({"", "unmatched"});
  latency_ = std::make_unique<latency_histogram[]>(routes_.size());
  statuses_ = std::make_unique<status_counts[]>(routes_.size());
}

void metrics::http_request(std::size_t route_index, unsigned status, std::chrono::steady_clock::duration elapsed) {
  const std::size_t index = route_index < routes_.size() - 1 ? route_index : routes_.size() - 1;
  latency_histogram& histogram = latency_[index];
  const double seconds = std::chrono::duration<double>(elapsed).count();
  std::size_t bucket = 0;
  while (bucket < latency_buckets.size() && seconds > latency_buckets[bucket]) ++bucket;
  histogram.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  histogram.count.fetch_add(1, std::memory_order_relaxed);
  histogram.sum_ns.fetch_add(static_cast<std::uint64_t>(std::chrono::nanoseconds(elapsed).count()),
                             std::memory_order_relaxed);
  const unsigned code = std::clamp(status, first_status, last_status);
  statuses_[index][code - first_status].fetch_add(1, std::memory_order_relaxed);
}

std::string metrics::render(std::size_t registered_peers) const {
  std::string out;
  header(out, "signaling_http_requests_total", "counter", "HTTP requests, by route and status");
  for (std::size_t r = 0; r < routes_.size(); ++r) {
    for (unsigned code = first_status; code <= last_status; ++code) {
      const std::uint64_t count = statuses_[r][code - first_status].load(std::memory_order_relaxed);
      if (count == 0) continue;  // as before: a (route, status) pair appears once it was seen
      sample(out, "signaling_http_requests_total",
             "method=\"" + escaped(routes_[r].method) + "\",route=\"" + escaped(routes_[r].path) + "\",status=\"" +
                 std::to_string(code) + "\"",
             std::to_string(count));
    }
  }
  header(out, "signaling_http_request_duration_seconds", "histogram", "HTTP request latency, by route");
  for (std::size_t r = 0; r < routes_.size(); ++r) {
    const latency_histogram& h = latency_[r];
    const std::uint64_t count = h.count.load(std::memory_order_relaxed);
    if (count == 0) continue;
    const std::string labels =
        "method=\"" + escaped(routes_[r].method) + "\",route=\"" + escaped(routes_[r].path) + "\"";
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b <= latency_buckets.size(); ++b) {
      cumulative += h.buckets[b].load(std::memory_order_relaxed);
      const std::string le = b < latency_buckets.size() ? number(latency_buckets[b]) : "+Inf";
      sample(out, "signaling_http_request_duration_seconds_bucket", labels + ",le=\"" + le + "\"",
             std::to_string(cumulative));
    }
    sample(out, "signaling_http_request_duration_seconds_sum", labels,
           number(static_cast<double>(h.sum_ns.load(std::memory_order_relaxed)) / 1e9));
    sample(out, "signaling_http_request_duration_seconds_count", labels, std::to_string(count));
  }
  header(out, "signaling_open_connections", "gauge", "Open client connections (HTTP and WebSocket)");
  sample(out, "signaling_open_connections", "", std::to_string(connections_open_.load(std::memory_order_relaxed)));
  header(out, "signaling_ws_connections", "gauge", "Open WebSocket connections");
  sample(out, "signaling_ws_connections", "", std::to_string(ws_open_.load(std::memory_order_relaxed)));
  header(out, "signaling_registered_peers", "gauge", "Peers registered (online) on this server");
  sample(out, "signaling_registered_peers", "", std::to_string(registered_peers));
  received_.render(out);
  sent_.render(out);
  header(out, "signaling_ws_slow_consumer_drops_total", "counter",
         "WebSocket connections dropped because their outbound queue overflowed");
  sample(out, "signaling_ws_slow_consumer_drops_total", "",
         std::to_string(slow_consumers_.load(std::memory_order_relaxed)));
  header(out, "signaling_ws_rate_limited_total", "counter", "WebSocket messages dropped by the rate limit");
  sample(out, "signaling_ws_rate_limited_total", "", std::to_string(rate_limited_.load(std::memory_order_relaxed)));
  if (cluster_ready_) render_cluster(out);
  return out;
}

void metrics::render_cluster(std::string& out) const {
  const auto counter = [&](std::string_view name, std::string_view help, const std::atomic<std::uint64_t>& value) {
    header(out, name, "counter", help);
    sample(out, name, "", std::to_string(value.load(std::memory_order_relaxed)));
  };
  header(out, "signaling_cluster_ready", "gauge",
         "1 when this process hears the other cluster processes and can write its presence");
  sample(out, "signaling_cluster_ready", "", cluster_ready_() ? "1" : "0");
  counter("signaling_cluster_events_received_total", "Presence events applied from other processes", cluster_received_);
  counter("signaling_cluster_publish_batches_total", "Presence write transactions of this process", cluster_batches_);
  counter("signaling_cluster_notifications_sent_total", "NOTIFY payloads sent by this process", cluster_notifications_);
  counter("signaling_cluster_publish_failures_total", "Presence write transactions that the database refused",
          cluster_failures_);
  counter("signaling_cluster_reconciliations_total",
          "Times this process rebuilt its view from the presence table (start, reconnection, checksum mismatch)",
          cluster_reconciliations_);
  counter("signaling_cluster_peers_reaped_total", "Peers of dead processes announced offline by this process",
          cluster_reaped_);
}

}  // namespace sig::telemetry

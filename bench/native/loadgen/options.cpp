#include "options.hpp"

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace loadgen {

namespace {

constexpr const char* usage = R"(usage: sig-loadgen SCENARIO (--port P | --ports P1,P2,...) [options]

scenarios:
  connect   N agents (organizations of --org-size) connect to /ws and register, --window at a time:
            connects+registers per second
  memory    N idle agents registered in --steps; server VmRSS (--server-pid, summed over several)
            and /proc/net/sockstat after each step, bytes per agent
  fanout    N agents of one organization; --rounds times a newcomer registers and leaves:
            latency to peer_online / peer_offline at the last receiver
  storm     N agents of one organization connect and register at once: time until every agent knows
            all N-1 others, delivered messages per second
  relay     --pairs pairs exchange `signal` at --rate per second each way for --duration s:
            throughput and round-trip latency
  rest      keep-alive GET /organizations over --connections for --duration s: req/s, p50/p99

options (default):
  --host H (127.0.0.1)  --port P  -n N (1000)  --org-size K (5)  --rounds R (50)  --pairs P (200)
  --rate R (40)  --duration S (5)  --warmup S (1)  --connections C (32)  --window W (500)
  --steps a,b,c (1000,2000,...,N)  --server-pid PID[,PID...] (repeatable)  --source-addrs K (0)
  --ports P1,P2,... instead of --port: several processes of one cluster; agent i's WebSocket goes
            to P(i mod K) (fanout: the newcomer to P1), REST to P1; the result then names the
            processes and each agent's peers are checked by identity (missing, repeated, unexpected)
  --tokens-file F (users exist: one token per line; set-up then only creates organizations)
  --setup-connections C (32)  --timeout S (60)
Prints one human line and one JSON object on stdout; progress on stderr. Exit status 1 when the
scenario failed functionally (missing or wrong messages, errors), never because of its figures.
)";

[[noreturn]] void die(const char* what, std::string_view arg) {
  std::fprintf(stderr, "sig-loadgen: %s: %.*s\n\n%s", what, static_cast<int>(arg.size()), arg.data(), usage);
  std::exit(2);
}

// The numeric options, as data: name and field.
template <class T>
struct numeric_option {
  std::string_view name;
  T options::*member;
};

constexpr numeric_option<int> int_options[] = {
    {"--port", &options::port},
    {"-n", &options::n},
    {"--org-size", &options::org_size},
    {"--rounds", &options::rounds},
    {"--pairs", &options::pairs},
    {"--connections", &options::connections},
    {"--window", &options::window},
    {"--source-addrs", &options::source_addrs},
    {"--setup-connections", &options::setup_connections},
};

constexpr numeric_option<double> double_options[] = {
    {"--rate", &options::rate},
    {"--duration", &options::duration},
    {"--warmup", &options::warmup},
    {"--timeout", &options::timeout},
};

// "a,b,c" appended to `out`, each a positive integer.
void parse_list(std::string_view v, std::vector<int>& out, const char* what) {
  for (std::string_view s = v; !s.empty();) {
    std::size_t comma = s.find(',');
    std::string part(s.substr(0, comma));
    char* end = nullptr;
    const long x = std::strtol(part.c_str(), &end, 10);
    if (part.empty() || *end || x <= 0 || x > 1'000'000'000) die(what, part);
    out.push_back(static_cast<int>(x));
    s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
  }
}

template <class T, std::size_t N>
const numeric_option<T>* find(const numeric_option<T> (&table)[N], std::string_view name) {
  for (const auto& entry : table)
    if (entry.name == name) return &entry;
  return nullptr;
}

}  // namespace

options parse_options(int argc, char** argv) {
  options o;
  if (argc < 2 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h") {
    std::fputs(usage, stdout);
    std::exit(argc < 2 ? 2 : 0);
  }
  o.scenario = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string_view key = argv[i];
    if (key == "--help" || key == "-h") {
      std::fputs(usage, stdout);
      std::exit(0);
    }
    if (i + 1 >= argc) die("missing value", key);
    const char* v = argv[++i];
    auto num = [&] {
      char* end = nullptr;
      double d = std::strtod(v, &end);
      if (end == v || *end) die("not a number", v);
      return d;
    };
    if (key == "--host") {
      o.host = v;
    } else if (key == "--tokens-file") {
      o.tokens_file = v;
    } else if (const auto* field = find(int_options, key)) {
      o.*field->member = static_cast<int>(num());
    } else if (const auto* field = find(double_options, key)) {
      o.*field->member = num();
    } else if (key == "--steps") {
      parse_list(v, o.steps, "bad step");
    } else if (key == "--ports") {
      parse_list(v, o.ports, "bad port");
    } else if (key == "--server-pid") {
      parse_list(v, o.server_pids, "bad pid");
    } else {
      die("unknown option", key);
    }
  }
  if (!o.ports.empty()) {
    if (o.port != 0) die("--port and --ports exclude each other", "");
    for (int p : o.ports)
      if (p > 65535) die("bad port", std::to_string(p));
    o.port = o.ports.front();
  }
  if (o.port <= 0 || o.port > 65535) die("--port is required", "");
  if (o.source_addrs < 0 || o.source_addrs > 253) die("--source-addrs must be 0..253", "");
  if (o.n < 1 || o.org_size < 1 || o.connections < 1 || o.window < 1 || o.pairs < 1 || o.rate <= 0)
    die("sizes must be positive", "");
  return o;
}

}  // namespace loadgen

// Command line of sig-loadgen.
#pragma once

#include <string>
#include <vector>

namespace loadgen {

struct options {
  std::string scenario;
  std::string host = "127.0.0.1";
  int port = 0;                  // the server (REST set-up, and every WebSocket unless --ports)
  std::vector<int> ports;        // --ports: agent i's WebSocket goes to ports[i % size] (REST to ports[0])
  int n = 1000;                  // agents (connect, fanout, storm) or the largest step (memory)
  int org_size = 5;              // connect, memory
  int rounds = 50;               // fanout
  int pairs = 200;               // relay
  double rate = 40;              // relay: signals per second sent by each initiating agent
  double duration = 5;           // relay, rest: measured seconds
  double warmup = 1;             // rest: unmeasured seconds first
  int connections = 32;          // rest
  int window = 500;              // connect, memory: connections being set up at once
  std::vector<int> steps;        // memory: agent counts to measure at (default 1000, 2000, ... n)
  std::vector<int> server_pids;  // memory: the server processes to read VmRSS of (summed)
  int source_addrs = 0;          // 0: the kernel picks 127.0.0.1; k: spread over 127.0.0.2 ... 127.0.0.(k+1)
  std::string tokens_file;       // users already exist: one bearer token per line, user i on line i
  int setup_connections = 32;    // concurrency of the untimed set-up
  double timeout = 60;           // per phase
};

// Parses argv; prints usage and exits on --help or an error.
options parse_options(int argc, char** argv);

}  // namespace loadgen

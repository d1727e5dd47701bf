// One function per scenario; each sets up its users (untimed), measures, prints its two lines
// (see report.hpp) and returns the exit status.
#pragma once

#include "context.hpp"

namespace loadgen {

int run_connect(context& ctx);
int run_memory(context& ctx);
int run_fanout(context& ctx);
int run_storm(context& ctx);
int run_relay(context& ctx);
int run_rest(context& ctx);

}  // namespace loadgen

# REST throughput vs connections: data columns connections, per_s, p50_ms, p99_ms
# (bench/native/sweep.py rest).
load common
set title heading("REST: keep-alive GET /organizations, one request in flight per connection")
set xlabel "connections"
set ylabel "responses per second (log scale)"
set logscale xy
set xtics (1, 2, 4, 8, 16, 32, 64, 128)
set format y "%.0f"
plot for [t in series] datafile index t using 1:2 with linespoints lw 2 pt 7 lc rgb color(t) title name(t)

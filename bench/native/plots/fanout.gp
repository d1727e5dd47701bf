# Fan-out latency vs receivers: data columns n, online_last_p50_ms, online_last_p99_ms,
# offline_last_p50_ms, offline_last_p99_ms (bench/native/sweep.py fanout).
load common
set title heading("Fan-out: time from a newcomer's register to its peer\\_online at the last of N receivers\n(p50 solid, p99 dashed, over the rounds)")
set xlabel "receivers N (one organization)"
set ylabel "ms until the last receiver has it"
set logscale xy
set xtics (20, 50, 100, 200, 250, 500, 1000, 2000, 5000)
plot for [t in series] datafile index t using 1:2 with linespoints lw 2 pt 7 lc rgb color(t) title name(t) . " p50", \
     for [t in series] datafile index t using 1:3 with linespoints lw 2 pt 6 dt 2 lc rgb color(t) title name(t) . " p99"

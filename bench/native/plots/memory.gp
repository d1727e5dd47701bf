# Server memory vs idle registered agents: data columns agents, rss_mib, bytes_per_agent
# (bench/native/sweep.py memory; 0 agents = after the untimed set-up). Two panels: every size,
# and the first 1,000 agents, where the baseline was measured.
load common
set multiplot layout 1,2 title heading("Memory: server resident set (VmRSS) with N idle registered agents (organizations of 5)")
set xlabel "idle registered agents"
set ylabel "VmRSS (MiB)"
set yrange [0:*]
set format x "%.0f"
set key inside top left Left reverse box opaque
set offsets graph 0.03, graph 0.03, graph 0.3, 0
set title "every size"
plot for [t in series] datafile index t using 1:2 with linespoints lw 2 pt 7 lc rgb color(t) title name(t)
set title "up to 1,000 agents (the baseline's sizes)"
set xrange [-20:1020]
unset key
plot for [t in series] datafile index t using 1:2 with linespoints lw 2 pt 7 lc rgb color(t) title name(t)
unset multiplot

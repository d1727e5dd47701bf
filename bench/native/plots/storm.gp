# Storm time vs peers: data columns n, elapsed_s, all_upgraded_s, all_registered_s, msgs_per_s
# (bench/native/sweep.py storm).
load common
set title heading("Storm: N agents of one organization connect and register at once;\nsolid: every agent knows all N-1 others, dashed: every upgrade done")
set xlabel "agents N"
set ylabel "seconds from the first connect"
set logscale xy
set xtics (20, 50, 100, 200, 250, 500, 1000, 2000, 5000)
plot for [t in series] datafile index t using 1:2 with linespoints lw 2 pt 7 lc rgb color(t) title name(t) . ": all know all", \
     for [t in series] datafile index t using 1:3 with linespoints lw 1.5 pt 6 dt 2 lc rgb color(t) title name(t) . ": all upgraded"

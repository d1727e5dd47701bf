# Shared by the sweep plots (bench/native/sweep.py passes datafile, outfile, series, subtitle):
# PNG size and font, one colour and name per server, grid, key, the sweep's "?" for no value.
set terminal pngcairo size 1000,600 font "DejaVu Sans,11" enhanced
set output outfile
set datafile missing "?"
set grid lc rgb "#dddddd"
set key outside right top vertical Left reverse box
set autoscale xfix
set offsets graph 0.03, graph 0.03, 0, 0
# Colour-blind-safe (Okabe-Ito): ours blue, the ceiling green, the baseline orange.
color(t) = t eq "ours" ? "#0072b2" : t eq "ceiling" ? "#009e73" : "#d55e00"
name(t) = t eq "ours" ? "ours" : t eq "ceiling" ? "ceiling" : "baseline (FastAPI)"
heading(text) = text . "\n{/*0.8 " . subtitle . "}"

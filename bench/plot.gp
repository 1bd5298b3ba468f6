# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# One metric, one bar per contender: the median ratio to Direct over the
# repetitions, error bars from the smallest to the largest ratio.
#   gnuplot -e "datafile='...'; outfile='...png'; metric='...'" bench/plot.gp
# datafile rows: contender median min max
set terminal pngcairo size 900,480 font "sans,11"
set output outfile
set title metric . " — ratio to Direct (median, min..max of repetitions)" noenhanced
set style data histogram
set style histogram errorbars gap 2 lw 1.5
set style fill solid 0.6 border -1
set boxwidth 0.8
set yrange [0:*]
set ylabel "x Direct"
set grid ytics
set xtics rotate by -20 noenhanced
set key off
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb "black"
plot datafile using 2:3:4:xtic(1) lc rgb "#4c72b0", \
     '' using 0:($2 + 0.02):(sprintf("%.2f", $2)) with labels offset 2.6,0.6 notitle

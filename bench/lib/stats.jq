# Statistics shared by summary.jq and accounting.jq (jq -L bench/lib,
# include "stats").
def median: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
	else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def stats: map(select(. != null)) | { median: median, min: min, max: max, n: length };
# Student's t, two-sided 95 %, by degrees of freedom (1..30; 1.96 beyond).
def t95(df): [12.71, 4.30, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23, 2.20, 2.18, 2.16, 2.14,
	2.13, 2.12, 2.11, 2.10, 2.09, 2.09, 2.08, 2.07, 2.07, 2.06, 2.06, 2.06, 2.05, 2.05, 2.05, 2.04][df - 1] // 1.96;
# Ratios: the geometric mean with its t-based 95 % interval (from the logs
# of the per-repetition ratios), next to their median.
def ratio_stats: map(select(. != null and . > 0)) as $r
	| ($r | length) as $n
	| (if $n < 2 then null else ($r | map(log)) as $l | ($l | add / $n) as $m
	   | (($l | map((. - $m) * (. - $m)) | add) / ($n - 1) | sqrt) as $sd
	   | (t95($n - 1) * $sd / ($n | sqrt)) as $h
	   | { gmean: ($m | exp), ci95: [(($m - $h) | exp), (($m + $h) | exp)] } end) as $ci
	| ($r | stats) + ($ci // {});

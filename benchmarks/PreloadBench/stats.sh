# Sourced by run.sh and nginx.sh: the summary both print, from one number per round in a file.

stats() { # file of numbers decimals -> "median min max count", or "- - - 0" if there is none
  [ -s "$1" ] || { echo "- - - 0"; return; }
  sort -g "$1" | awk -v d="$2" '{ v[NR] = $1 } END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    f = "%." d "f"
    printf f " " f " " f " %d\n", m, v[1], v[NR], NR }'
}

cell() { # median min max count -> "median (min–max)", saying how many of $rounds ran if some failed
  if [ "$4" = 0 ]; then echo "FAIL"; return; fi
  local text="$1 ($2–$3)"
  [ "$4" = "$rounds" ] || text+=" [$4 of $rounds]"
  echo "$text"
}

# fish completion for zoned(8)
complete -c zoned -l state-dir -r
complete -c zoned -l socket -r
complete -c zoned -l cgroup-root -x
complete -c zoned -l metrics -x -d 'Prometheus address'
complete -c zoned -l zonefs -r -d 'mount /zones here'
complete -c zoned -l config -r

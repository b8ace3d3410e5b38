# fish completion for zonefs(8)
complete -c zonefs -s d -d detach
complete -c zonefs -l socket -r
complete -c zonefs -l state-dir -r
complete -c zonefs -l cgroup-root -x

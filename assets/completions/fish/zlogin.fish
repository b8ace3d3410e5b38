# fish completion for zlogin(1)
complete -c zlogin -s l -x -a '(__fish_complete_users)' -d user
complete -c zlogin -n '__fish_is_first_arg' -f -a '(zoneadm list -cp 2>/dev/null | cut -d: -f2)' -d zone
complete -c zlogin -l socket -r
complete -c zlogin -l state-dir -r
complete -c zlogin -l cgroup-root -x
complete -c zlogin -l config -r

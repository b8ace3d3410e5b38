# fish completion for jexec(8)
complete -c jexec -s l -d 'login environment'
complete -c jexec -s n -d 'ignored'
complete -c jexec -s u -x -a '(__fish_complete_users)' -d 'host user'
complete -c jexec -s U -x -d 'jail user'
complete -c jexec -n '__fish_is_first_arg' -f -a '(jls name 2>/dev/null; jls jid 2>/dev/null)' -d jail

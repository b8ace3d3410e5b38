# fish completion for jls(8)
complete -c jls -f
complete -c jls -s a -d 'dying jails too'
complete -c jls -s d -d 'dying jails too'
complete -c jls -s h -d 'header line'
complete -c jls -s N -d 'names'
complete -c jls -s n -d 'name=value'
complete -c jls -s q -d 'quote'
complete -c jls -s s -d 'settable only'
complete -c jls -s v -d 'verbose'
complete -c jls -s j -x -a '(jls name 2>/dev/null; jls jid 2>/dev/null)' -d jail
complete -c jls -l libxo -x -a json
complete -c jls -l json -d JSON
complete -c jls -a '(jls -h 2>/dev/null | head -n 1 | string split " ")' -d parameter

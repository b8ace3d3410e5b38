# fish completion for jail(8)
for o in c m r R C q v i h l d
    complete -c jail -s $o
end
complete -c jail -s e -x -d separator
complete -c jail -s f -r -d configuration
complete -c jail -s p -x -d 'parallel limit'
complete -c jail -s J -r -d 'jid file'
complete -c jail -s n -x -d 'jail name'
complete -c jail -s s -x -d securelevel
complete -c jail -s u -x -a '(__fish_complete_users)'
complete -c jail -s U -x
complete -c jail -l import-rc -r
complete -c jail -f -a '(zoneadm list -cp 2>/dev/null | cut -d: -f2 | string match -v global)' -d jail

# fish completion for kstat(1)
complete -c kstat -f
for o in C j l p q
    complete -c kstat -s $o
end
complete -c kstat -s T -x -a 'd u' -d timestamp
complete -c kstat -s c -x -a 'zone_caps zone_misc' -d class
complete -c kstat -s m -x -a 'caps zones' -d module
complete -c kstat -s i -x -d instance
complete -c kstat -s n -x -d name
complete -c kstat -s s -x -d statistic

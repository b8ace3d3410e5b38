# fish completion for ztop(1)
complete -c ztop -s b -l batch -d 'batch mode'
complete -c ztop -s n -l count -x -d reports
complete -c ztop -s d -l delay -x -d seconds
complete -c ztop -l json -d JSON
complete -c ztop -l no-mouse
complete -c ztop -l demo
complete -c ztop -l ui-config -r
complete -c ztop -l socket -r
complete -c ztop -l state-dir -r
complete -c ztop -l cgroup-root -x
complete -c ztop -l config -r
complete -c ztop -s H -l host -x -a '(__fish_print_hostnames)' -d 'another host, through ssh'
complete -c ztop -l ssh-option -x -d 'ssh option (-o)'

# fish completion for zoneadm(8)
function __zones_names
    zoneadm list -cp 2>/dev/null | cut -d: -f2
end
set -l subs list boot halt reboot shutdown ready verify install uninstall clone help
complete -c zoneadm -f
complete -c zoneadm -s z -x -a '(__zones_names)' -d zone
complete -c zoneadm -s u -x -d 'zone uuid'
complete -c zoneadm -l socket -r -d 'zoned socket'
complete -c zoneadm -l state-dir -r -d 'state directory'
complete -c zoneadm -l cgroup-root -x -d 'cgroup root'
complete -c zoneadm -l config -r -d jail.conf
complete -c zoneadm -n "not __fish_seen_subcommand_from $subs" -a "$subs"
complete -c zoneadm -n '__fish_seen_subcommand_from list' -s c -d 'configured zones'
complete -c zoneadm -n '__fish_seen_subcommand_from list' -s i -d 'installed zones'
complete -c zoneadm -n '__fish_seen_subcommand_from list' -s p -d parsable
complete -c zoneadm -n '__fish_seen_subcommand_from list' -s v -d verbose
complete -c zoneadm -n '__fish_seen_subcommand_from list' -l json -d JSON
complete -c zoneadm -n '__fish_seen_subcommand_from shutdown' -s r -d 'boot again'
complete -c zoneadm -n '__fish_seen_subcommand_from uninstall' -s F -d 'do not ask'
complete -c zoneadm -n '__fish_seen_subcommand_from clone' -a '(__zones_names)'

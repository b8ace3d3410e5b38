# fish completion for zonecfg(8)
function __zones_names
    zoneadm list -cp 2>/dev/null | cut -d: -f2
end
set -l cmds create export info verify commit revert delete help
complete -c zonecfg -f
complete -c zonecfg -s z -x -a '(__zones_names)' -d zone
complete -c zonecfg -s f -r -d 'command file'
complete -c zonecfg -l conf-dir -r -d 'jail.conf.d directory'
complete -c zonecfg -l help -d usage
complete -c zonecfg -l version -d version
complete -c zonecfg -n "not __fish_seen_subcommand_from $cmds" -a "$cmds"
complete -c zonecfg -n '__fish_seen_subcommand_from create' -a '-b -F -t SYSdefault SYSsparse SYSblank'
complete -c zonecfg -n '__fish_seen_subcommand_from delete' -a -F
complete -c zonecfg -n '__fish_seen_subcommand_from info' -a 'fs net anet rctl attr capped-memory capped-cpu dedicated-cpu device dataset'

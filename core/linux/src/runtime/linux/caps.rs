//! # The zone's privilege set
//!
//! A zone runs as root of the host's user namespace, so what its root may
//! do is the capability set the runtime leaves it — except a zone whose
//! set keeps CAP_SYS_ADMIN, which gets a user namespace of its own
//! ([`super::userns`]): there this set is over the zone's namespaces only.
//! zsched (pid 1) keeps its own full permitted set (it must unmount, set
//! the host name, and a process of the zone must not be able to ptrace
//! it) but drops every capability that is not the zone's from the
//! *bounding* set at start; every process it or an enter starts then
//! execs with inheritable and ambient cleared, so its permitted and
//! effective sets are the bounding set.
//!
//! The set is computed from `limitpriv` (`default`, `all`, or a list of
//! names to add or remove: `default,-net_raw,+sys_time`; names are Linux
//! capability names with or without `cap_`), then the jail allow.*
//! parameters: true adds, an explicit false removes:
//!
//! | parameter | capability |
//! |---|---|
//! | allow.raw_sockets | CAP_NET_RAW |
//! | allow.mlock | CAP_IPC_LOCK |
//! | allow.mount | CAP_SYS_ADMIN |
//! | allow.set_hostname | CAP_SYS_ADMIN (see below) |
//! | allow.chflags | CAP_LINUX_IMMUTABLE |
//! | allow.settime, allow.adjtime | CAP_SYS_TIME |
//! | allow.sysvipc | CAP_IPC_OWNER |
//! | allow.routing | CAP_NET_ADMIN |
//! | allow.reserved_ports | CAP_NET_BIND_SERVICE |
//!
//! **allow.set_hostname.** Linux checks CAP_SYS_ADMIN for sethostname(2)
//! (in the user namespace that owns the UTS namespace). There is no
//! narrower capability, so allow.set_hostname keeps CAP_SYS_ADMIN — and
//! with it mount and much else, which is why such a zone runs in a user
//! namespace of its own ([`super::userns`]) that owns its UTS namespace.
//! Without it (the default) `hostname x` fails with EPERM. The engine changes a zone's host
//! name itself (update → zsched), which needs no capability of the zone.
//!
//! zone.max-locked-memory removes CAP_IPC_LOCK (which would bypass
//! RLIMIT_MEMLOCK).
//!
//! The default set is a container's usual one minus CAP_MKNOD,
//! CAP_NET_RAW and CAP_SETFCAP:
//!
//! | in the default set | why |
//! |---|---|
//! | CHOWN, DAC_OVERRIDE, FOWNER, FSETID | root owns and may change every file of its zone |
//! | KILL | signals to every process of the zone (the pid namespace bounds it) |
//! | SETGID, SETUID, SETPCAP | su, login, daemons dropping privilege |
//! | NET_BIND_SERVICE | ports below 1024 (allow.reserved_ports=false removes it) |
//! | SYS_CHROOT | chroot inside the zone |
//! | AUDIT_WRITE | login and sshd write audit records |
//!
//! Left out: MKNOD (device nodes; the zone's /dev is made for it), NET_RAW
//! (allow.raw_sockets), and SETFCAP — file capabilities written inside
//! the zone are honoured by the host's kernel for anyone who runs the file,
//! so with it root in the zone could plant a privileged binary for a host
//! user (security.md, "plant privilege"). `limitpriv=default,+setfcap`
//! still grants it.

use crate::param::Params;
use crate::runtime::RuntimeError;

/// Linux capability names, by number.
pub const NAMES: &[&str] = &[
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
];

pub fn cap(name: &str) -> Option<u32> {
    let n = name.trim().to_ascii_lowercase();
    let n = n.strip_prefix("cap_").unwrap_or(&n);
    NAMES.iter().position(|x| *x == n).map(|i| i as u32)
}

fn bit(name: &str) -> u64 {
    1u64 << cap(name).expect("known capability")
}

/// The zone default set (module comment).
pub fn default_set() -> u64 {
    [
        "chown",
        "dac_override",
        "fowner",
        "fsetid",
        "kill",
        "setgid",
        "setuid",
        "setpcap",
        "net_bind_service",
        "sys_chroot",
        "audit_write",
    ]
    .iter()
    .map(|n| bit(n))
    .fold(0, |a, b| a | b)
}

/// Every capability this kernel knows (from /proc/sys/kernel/cap_last_cap).
pub fn all_set() -> u64 {
    let last = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(NAMES.len() as u32 - 1);
    if last >= 63 {
        u64::MAX
    } else {
        (1u64 << (last + 1)) - 1
    }
}

const ALLOW: &[(&str, &str)] = &[
    ("allow.raw_sockets", "net_raw"),
    ("allow.mlock", "ipc_lock"),
    ("allow.mount", "sys_admin"),
    ("allow.set_hostname", "sys_admin"),
    ("allow.chflags", "linux_immutable"),
    ("allow.settime", "sys_time"),
    ("allow.adjtime", "sys_time"),
    ("allow.sysvipc", "ipc_owner"),
    ("allow.routing", "net_admin"),
    ("allow.reserved_ports", "net_bind_service"),
];

/// The zone's capability set as a bit mask (bit n = capability n).
pub fn zone_set(params: &Params) -> Result<u64, RuntimeError> {
    let mut set = default_set();
    let lp = params.list("limitpriv");
    if !lp.is_empty() {
        set = 0;
        for item in lp.iter().flat_map(|s| s.split(',')) {
            let item = item.trim();
            match item {
                "" => {}
                "default" | "zone" => set |= default_set(),
                "all" => set |= all_set(),
                "none" => set = 0,
                _ => {
                    let (add, name) = match item.as_bytes()[0] {
                        b'-' | b'!' => (false, &item[1..]),
                        b'+' => (true, &item[1..]),
                        _ => (true, item),
                    };
                    let c = cap(name).ok_or_else(|| {
                        RuntimeError::new("limitpriv", format!("unknown privilege \"{name}\""))
                    })?;
                    if add {
                        set |= 1 << c;
                    } else {
                        set &= !(1 << c);
                    }
                }
            }
        }
    }
    // True adds; an explicit false removes, but not what another true
    // parameter needs (allow.set_hostname and allow.mount share one).
    let mut keep = 0u64;
    for (p, c) in ALLOW {
        if params.bool(p) == Some(true) {
            keep |= bit(c);
        }
    }
    for (p, c) in ALLOW {
        if params.bool(p) == Some(false) {
            set &= !bit(c);
        }
    }
    set |= keep;
    if params.int("zone.max-locked-memory").is_some() {
        set &= !bit("ipc_lock");
    }
    Ok(set)
}

/// Names of the capabilities in `set`, for messages and `privset`.
pub fn names(set: u64) -> Vec<&'static str> {
    NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| set & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect()
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}
#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}
const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// Drop every capability not in `set` from the bounding set. Async-signal
/// safe (raw prctl only): callable between fork and exec.
pub fn drop_bounding(set: u64) -> Result<(), i32> {
    for c in 0..64u32 {
        if set & (1 << c) != 0 {
            continue;
        }
        // SAFETY: prctl with integer arguments only.
        let r = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, c as libc::c_ulong, 0, 0, 0) };
        if r != 0 {
            let e = errno();
            if e == libc::EINVAL {
                break; // past the last capability of this kernel
            }
            return Err(e);
        }
    }
    Ok(())
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Reduce the calling thread to `set`: bounding, then ambient cleared, then
/// inheritable emptied and permitted/effective masked. Async-signal safe.
pub fn reduce_to(set: u64) -> Result<(), i32> {
    drop_bounding(set)?;
    clear_inheritable(Some(set))
}

/// Clear ambient and inheritable; with `mask`, also mask permitted and
/// effective. Async-signal safe.
pub fn clear_inheritable(mask: Option<u64>) -> Result<(), i32> {
    // SAFETY: prctl with integer arguments only.
    unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        );
    }
    let mut hdr = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: the system call gets valid pointers to data we own.
    if unsafe { libc::syscall(libc::SYS_capget, &mut hdr, data.as_mut_ptr()) } != 0 {
        return Err(errno());
    }
    for (i, d) in data.iter_mut().enumerate() {
        d.inheritable = 0;
        if let Some(m) = mask {
            let m = (m >> (32 * i)) as u32;
            d.permitted &= m;
            d.effective &= m;
        }
    }
    // SAFETY: the system call gets valid pointers to data we own.
    if unsafe { libc::syscall(libc::SYS_capset, &mut hdr, data.as_ptr()) } != 0 {
        return Err(errno());
    }
    Ok(())
}

/// The bounding set of a process, from /proc/PID/status (CapBnd).
pub fn bounding_of(pid: u32) -> std::io::Result<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    s.lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .ok_or_else(|| std::io::Error::other(format!("/proc/{pid}/status: no CapBnd")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::param::Value;

    #[test]
    fn default_set_has_neither_raw_sockets_mount_mknod_nor_setfcap() {
        let s = zone_set(&Params::new()).unwrap();
        assert_eq!(s, default_set());
        for c in [
            "net_raw",
            "sys_admin",
            "mknod",
            "sys_time",
            "ipc_lock",
            "setfcap",
            "sys_ptrace",
            "dac_read_search",
            "sys_resource",
        ] {
            assert_eq!(s & bit(c), 0, "{c}");
        }
        assert_eq!(
            names(s),
            [
                "chown",
                "dac_override",
                "fowner",
                "fsetid",
                "kill",
                "setgid",
                "setuid",
                "setpcap",
                "net_bind_service",
                "sys_chroot",
                "audit_write"
            ]
        );
    }

    #[test]
    fn limitpriv_can_still_grant_setfcap() {
        let mut p = Params::new();
        p.insert("limitpriv", Value::List(vec!["default,+setfcap".into()]));
        let s = zone_set(&p).unwrap();
        assert_eq!(s, default_set() | bit("setfcap"));
    }

    #[test]
    fn allow_parameters_add_and_explicit_false_removes() {
        let mut p = Params::new();
        p.insert("allow.raw_sockets", Value::Bool(true));
        p.insert("allow.mount", Value::Bool(true));
        p.insert("allow.set_hostname", Value::Bool(false));
        p.insert("allow.reserved_ports", Value::Bool(false));
        let s = zone_set(&p).unwrap();
        assert_ne!(s & bit("net_raw"), 0);
        assert_ne!(
            s & bit("sys_admin"),
            0,
            "allow.mount keeps what set_hostname=false drops"
        );
        assert_eq!(s & bit("net_bind_service"), 0);
    }

    #[test]
    fn limitpriv_adds_and_removes_and_refuses_unknown_names() {
        let mut p = Params::new();
        p.insert(
            "limitpriv",
            Value::List(vec![
                "default".into(),
                "-chown".into(),
                "+sys_time".into(),
                "CAP_NET_RAW".into(),
            ]),
        );
        let s = zone_set(&p).unwrap();
        assert_eq!(s & bit("chown"), 0);
        assert_ne!(s & bit("sys_time"), 0);
        assert_ne!(s & bit("net_raw"), 0);
        p.insert("limitpriv", Value::List(vec!["default,+bogus".into()]));
        let e = zone_set(&p).unwrap_err();
        assert_eq!(e.to_string(), "limitpriv: unknown privilege \"bogus\"");
    }

    #[test]
    fn max_locked_memory_drops_ipc_lock_even_with_allow_mlock() {
        let mut p = Params::new();
        p.insert("allow.mlock", Value::Bool(true));
        assert_ne!(zone_set(&p).unwrap() & bit("ipc_lock"), 0);
        p.insert("zone.max-locked-memory", Value::Int(1 << 20));
        assert_eq!(zone_set(&p).unwrap() & bit("ipc_lock"), 0);
    }
}

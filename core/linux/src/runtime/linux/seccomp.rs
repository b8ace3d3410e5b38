//! # The zone's system call filter
//!
//! Capabilities ([`super::caps`]) decide what root in a zone may do to the
//! objects the kernel checks them against. They say nothing about the
//! system calls any process may make without a capability and that still
//! reach state shared with the host: the keyrings, unprivileged bpf, perf
//! events, userfaultfd, io_uring, new user namespaces (which hand a process
//! a full capability set over objects it then creates), TIOCSTI into a
//! terminal the administrator shares. And a capability kept by mistake
//! (`limitpriv=all`) must not reopen module loading or kexec. So every zone
//! process also runs under a seccomp filter: the same on v1, hybrid and v2
//! hosts, installed once where zone code starts (zsched before init and the
//! hooks it runs, the entering process before the user's command) and
//! inherited by everything the zone forks and execs.
//!
//! ## Denylist, not allowlist
//!
//! The filter allows by default and refuses a list. Zones run whole
//! distributions with systemd as init; an allowlist must know every system
//! call a libc or a daemon may pick up next year, and the reference
//! profiles broke real programs that way (glibc 2.33's faccessat2 and
//! glibc 2.34's clone3 failed with EPERM under Docker's and Podman's
//! profiles of the time, where they needed ENOSYS to fall back). What a zone must not reach is a short list of
//! kernel facilities; we name them, and the capability set does the rest.
//! The weakness of a denylist — a new system call is allowed the day it
//! appears — is closed by refusing every number past the last one this
//! table was reviewed against ([`FIRST_UNKNOWN`], Linux 6.18's last call is
//! 469 `file_setattr`) with ENOSYS, as a kernel without it would: a new
//! call is opened by adding it to the review, never by accident.
//!
//! ## The other doors into the kernel
//!
//! On x86_64 a process can also enter the kernel through the i386 ABI
//! (`int 0x80`, AUDIT_ARCH_I386, other numbers: i386 keyctl is 288) and the
//! x32 ABI (x86_64 numbers with bit 0x40000000 set). A denylist keyed on
//! x86_64 numbers is bypassed through either, so the filter's prologue
//! refuses both entirely with ENOSYS before any rule is read: to the zone
//! this kernel has neither (32-bit binaries do not run in a zone; Debian's
//! kernels leave x32 off by default). The i386-only calls (stime, vm86,
//! vm86old) are refused with them.
//!
//! ## What is refused, and the errno
//!
//! EPERM where the kernel itself answers an unprivileged caller with EPERM
//! (and it is Docker's and LXC's default): programs already handle "not
//! permitted". ENOSYS where a well-written program should behave as on a
//! kernel without the facility and fall back: clone3 (glibc then uses
//! clone, whose flags the filter can read; clone3's are in memory it
//! cannot), keyrings (LXC's choice, `keyctl errno 38`: pam_keyinit, sshd and
//! systemd treat the keyring as absent), io_uring (liburing users fall back
//! to epoll or threads), calls Linux has removed, foreign ABIs and unknown
//! numbers. EAFNOSUPPORT for a socket family, which is what the kernel says
//! of a family it was built without.
//!
//! | class | system calls | errno | opened by |
//! |---|---|---|---|
//! | keyrings | add_key, keyctl, request_key | ENOSYS | — |
//! | kernel code | init_module, finit_module, delete_module, kexec_load, kexec_file_load | EPERM | — |
//! | kernel instrumentation | bpf, perf_event_open, lookup_dcookie | EPERM | — |
//! | memory tricks | userfaultfd | EPERM | — |
//! | async kernel I/O | io_uring_setup, io_uring_enter, io_uring_register | ENOSYS | — |
//! | host files by handle | open_by_handle_at | EPERM | — |
//! | host state | acct, swapon, swapoff, reboot, iopl, ioperm, fanotify_init | EPERM | — |
//! | kernel log | syslog | EPERM | allow.read_msgbuf: READ_ALL, SIZE_UNREAD, SIZE_BUFFER only |
//! | quotas | quotactl, quotactl_fd | EPERM | allow.quotas |
//! | clock (set) | settimeofday, clock_settime | EPERM | allow.settime |
//! | clock (adjust) | adjtimex, clock_adjtime | EPERM | allow.adjtime |
//! | mounts | mount, umount2, pivot_root, fsopen, fsconfig, fsmount, fspick, move_mount, open_tree, open_tree_attr, mount_setattr | EPERM | allow.mount |
//! | new user namespaces | unshare and clone with CLONE_NEWUSER | EPERM | — |
//! | unreadable flags | clone3 | ENOSYS | — |
//! | personality | personality other than 0, PER_LINUX32, UNAME26, both, or the query 0xffffffff | EPERM | — |
//! | terminal injection | ioctl TIOCSTI, TIOCLINUX | EPERM | — |
//! | rare socket families | socket, socketpair with a family other than AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET | EAFNOSUPPORT | allow.socket_af |
//! | removed from Linux | uselib, nfsservctl, _sysctl | ENOSYS | — |
//! | other ABIs, unknown numbers | i386, x32, numbers ≥ 470 | ENOSYS | — |
//!
//! Notes on the rows. ioctl, personality, syslog and the socket family are
//! compared on the low 32 bits only, as the kernel reads them (an
//! `unsigned int`/`int`): setting high bits does not slip past. Argument
//! checks are on registers only; a flag in user memory (clone3's
//! `clone_args`, adjtimex's `modes`) cannot be read by a filter, which is
//! why clone3 is ENOSYS and why adjtimex is refused also for reading the
//! clock's state (`ntptime`, timedatectl's "synchronized": they then report
//! unsynchronized; nothing in a zone can discipline the clock anyway).
//! name_to_handle_at stays allowed: the handle is useless without
//! open_by_handle_at, and systemd uses it to tell mount points apart.
//! ptrace, process_vm_* and kcmp stay allowed (Linux ≥ 4.8 checks the
//! filter again after a tracer changes a call): debugging inside the zone
//! works; the zone's pid namespace and the dropped CAP_SYS_PTRACE keep it
//! inside.
//!
//! ## allow.* exceptions
//!
//! Where FreeBSD has an `allow.*` parameter for a facility, true opens that
//! facility's row (the matching capability is kept by [`super::caps`]); an
//! exception opens only the calls of its own row. allow.mount.* (per file
//! system) need allow.mount as in FreeBSD and open nothing alone: the file
//! system type is a string in user memory, which a filter cannot read.
//! allow.mount opens the whole mounts row, the new mount API included: a
//! zone that keeps CAP_SYS_ADMIN runs in a user namespace of its own
//! ([`super::userns`]), so the kernel bounds those calls as it bounds
//! mount(2) — no fresh proc (the host's user namespace owns the pid
//! namespace), no reconfigure of a superblock the host made, no clearing
//! the locked read-only flag of a host-made mount on a clone (escape
//! suite k05, k14, k15) — and refusing fsopen/fsmount/move_mount would
//! only break the programs that mount the new way.
//! allow.set_hostname, allow.raw_sockets, allow.chflags, allow.mlock,
//! allow.sysvipc, allow.routing and allow.reserved_ports are capability
//! matters only: no row of the filter stands in their way.
//!
//! ## Loading it
//!
//! [`Filter::for_params`] compiles the program in the parent (allocation
//! allowed); [`Filter::apply`] only makes the seccomp(2) call with a
//! pointer to it, so it is async-signal-safe and may run in the forked
//! child of a multithreaded process. It does **not** set no_new_privs:
//! setuid programs in the zone (su, passwd, ping) must keep gaining their
//! privilege on exec. Without no_new_privs the kernel requires
//! CAP_SYS_ADMIN of the caller, so apply is called before the capability
//! drop. A filtered process shows `Seccomp: 2` and `Seccomp_filters: N` in
//! /proc/PID/status ([`status`]).
//!
//! zsched itself stays unfiltered: it mounts, unmounts and pivots for the
//! zone; the filter goes on what it starts. A loaded filter cannot be
//! loosened, so a change of an allow.* parameter on a live zone reaches
//! its processes at the next boot (an entered process should get the
//! filter the zone booted with).
//!
//! ## The program
//!
//! We write the classic BPF ourselves ([`Filter::for_params`], a small
//! assembler with forward labels): no C library to install (libseccomp-dev
//! is not on Debian by default) and no compiler crate between the profile
//! and the kernel. After the prologue (architecture, x32, unknown
//! numbers), the number is looked up in a binary tree: each node splits
//! the profile's calls on `nr >= K` (JGE, then a JA to the upper half), a
//! leaf compares at most [`LEAF`] numbers in turn, and a matched number
//! runs its own rows — each errno's register checks in ascending errno
//! order, then allow. A number that no leaf names is allowed. With the 50
//! rows of the default profile that is ~200 instructions, of which any
//! call runs at most a couple of dozen.
//!
//! The layout is about what loading costs, which every zone boot pays
//! (init's child loads the filter before its exec). On load, Linux's
//! seccomp action cache (5.11+) runs the program once for every system
//! call number of each architecture, to find the calls it always allows,
//! and the program is translated and JIT-compiled. A linear chain
//! (seccompiler's output, which we used at first: one `jeq` per call and
//! rule, 313 instructions, every allowed number running through all of
//! them) made that ~150 µs per load; the tree makes it ~55 µs (measured
//! on the 2-CPU test machine), and a call with argument rows (ioctl,
//! clone, socket) runs a dozen instructions instead of up to 313. `cargo
//! bench -p zones-linux --bench seccomp` measures both costs.
//!
//! The prologue and the number tree only look at the architecture and
//! the number, so the action cache answers every other call without
//! running the program at all; only the calls with argument rows (ioctl,
//! clone, unshare, personality, socket, socketpair, syslog) run it. What
//! is left on those cached calls (getpid 1.3× under any filter, even a
//! one-instruction "allow") is the kernel's slower system call entry for
//! a filtered process, the floor the bench prints beside our figure.
//! No program sets no_new_privs (seccompiler's `apply_filter` would):
//! we load with the raw system call.
//!
//! A container's own profile (OCI `linux.seccomp`, the zone parameter
//! `seccomp.profile`) is compiled by [`super::seccomp_oci`] with the
//! zone's filter and loaded right after it by [`Filter::apply`]: stacked,
//! so it can only refuse more.

use crate::param::Params;
use crate::runtime::RuntimeError;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

/// AUDIT_ARCH_X86_64 (EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE).
pub const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
/// Set in the number of a system call made through the x32 ABI.
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;
/// The first x86_64 system call number past the table's review (Linux
/// 6.18 ends at 469, file_setattr); this and above are ENOSYS.
pub const FIRST_UNKNOWN: u32 = 470;

/// open_tree_attr(2), Linux 6.15 (not in libc yet).
const SYS_OPEN_TREE_ATTR: i64 = 467;

/// personality(2) values Docker's profile allows: PER_LINUX, PER_LINUX32,
/// UNAME26, UNAME26|PER_LINUX32 and the query 0xffffffff.
const PERSONALITIES: &[u64] = &[0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff];
/// Socket families open without allow.socket_af (FreeBSD's default set:
/// local, IPv4, IPv6, routing (netlink here); and AF_PACKET, which needs
/// CAP_NET_RAW anyway, i.e. allow.raw_sockets).
const FAMILIES: &[u64] = &[
    libc::AF_UNIX as u64,
    libc::AF_INET as u64,
    libc::AF_INET6 as u64,
    libc::AF_NETLINK as u64,
    libc::AF_PACKET as u64,
];
/// syslog(2) actions open with allow.read_msgbuf: READ_ALL (3),
/// SIZE_UNREAD (9), SIZE_BUFFER (10): reading without consuming or
/// clearing anything, and without touching the console.
const SYSLOG_READS: &[u64] = &[3, 9, 10];

/// When a row refuses its call, by the call's registers.
#[derive(Clone, Copy, Debug)]
pub enum Refuse {
    /// Always.
    Always,
    /// When `arg[i] & mask` is not 0 (compared on the low 32 bits).
    AnyBit(u8, u64),
    /// When the low 32 bits of `arg[i]` are `v`.
    Equal(u8, u64),
    /// When the low 32 bits of `arg[i]` are none of these.
    NoneOf(u8, &'static [u64]),
}

/// One row of the profile (module comment).
#[derive(Clone, Copy, Debug)]
pub struct Row {
    pub name: &'static str,
    pub nr: i64,
    pub errno: i32,
    pub refuse: Refuse,
    /// The allow.* parameter that opens the row, if any.
    pub opened_by: Option<&'static str>,
    /// What is still refused when it is opened (None: nothing).
    pub opened_to: Option<Refuse>,
}

const fn row(name: &'static str, nr: i64, errno: i32) -> Row {
    Row {
        name,
        nr,
        errno,
        refuse: Refuse::Always,
        opened_by: None,
        opened_to: None,
    }
}

const fn opened(mut r: Row, by: &'static str) -> Row {
    r.opened_by = Some(by);
    r
}

const fn when(mut r: Row, refuse: Refuse) -> Row {
    r.refuse = refuse;
    r
}

const EPERM: i32 = libc::EPERM;
const ENOSYS: i32 = libc::ENOSYS;

/// The profile: every row the filter may refuse.
pub const PROFILE: &[Row] = &[
    // keyrings
    row("add_key", libc::SYS_add_key, ENOSYS),
    row("keyctl", libc::SYS_keyctl, ENOSYS),
    row("request_key", libc::SYS_request_key, ENOSYS),
    // kernel code
    row("init_module", libc::SYS_init_module, EPERM),
    row("finit_module", libc::SYS_finit_module, EPERM),
    row("delete_module", libc::SYS_delete_module, EPERM),
    row("kexec_load", libc::SYS_kexec_load, EPERM),
    row("kexec_file_load", libc::SYS_kexec_file_load, EPERM),
    // kernel instrumentation
    row("bpf", libc::SYS_bpf, EPERM),
    row("perf_event_open", libc::SYS_perf_event_open, EPERM),
    row("lookup_dcookie", libc::SYS_lookup_dcookie, EPERM),
    // memory
    row("userfaultfd", libc::SYS_userfaultfd, EPERM),
    // io_uring
    row("io_uring_setup", libc::SYS_io_uring_setup, ENOSYS),
    row("io_uring_enter", libc::SYS_io_uring_enter, ENOSYS),
    row("io_uring_register", libc::SYS_io_uring_register, ENOSYS),
    // host files by handle
    row("open_by_handle_at", libc::SYS_open_by_handle_at, EPERM),
    // host state
    row("acct", libc::SYS_acct, EPERM),
    row("swapon", libc::SYS_swapon, EPERM),
    row("swapoff", libc::SYS_swapoff, EPERM),
    row("reboot", libc::SYS_reboot, EPERM),
    row("iopl", libc::SYS_iopl, EPERM),
    row("ioperm", libc::SYS_ioperm, EPERM),
    row("fanotify_init", libc::SYS_fanotify_init, EPERM),
    // kernel log
    Row {
        opened_to: Some(Refuse::NoneOf(0, SYSLOG_READS)),
        ..opened(row("syslog", libc::SYS_syslog, EPERM), "allow.read_msgbuf")
    },
    // quotas
    opened(row("quotactl", libc::SYS_quotactl, EPERM), "allow.quotas"),
    opened(
        row("quotactl_fd", libc::SYS_quotactl_fd, EPERM),
        "allow.quotas",
    ),
    // clock
    opened(
        row("settimeofday", libc::SYS_settimeofday, EPERM),
        "allow.settime",
    ),
    opened(
        row("clock_settime", libc::SYS_clock_settime, EPERM),
        "allow.settime",
    ),
    opened(row("adjtimex", libc::SYS_adjtimex, EPERM), "allow.adjtime"),
    opened(
        row("clock_adjtime", libc::SYS_clock_adjtime, EPERM),
        "allow.adjtime",
    ),
    // mounts, old and new API
    opened(row("mount", libc::SYS_mount, EPERM), "allow.mount"),
    opened(row("umount2", libc::SYS_umount2, EPERM), "allow.mount"),
    opened(
        row("pivot_root", libc::SYS_pivot_root, EPERM),
        "allow.mount",
    ),
    opened(row("fsopen", libc::SYS_fsopen, EPERM), "allow.mount"),
    opened(row("fsconfig", libc::SYS_fsconfig, EPERM), "allow.mount"),
    opened(row("fsmount", libc::SYS_fsmount, EPERM), "allow.mount"),
    opened(row("fspick", libc::SYS_fspick, EPERM), "allow.mount"),
    opened(
        row("move_mount", libc::SYS_move_mount, EPERM),
        "allow.mount",
    ),
    opened(row("open_tree", libc::SYS_open_tree, EPERM), "allow.mount"),
    opened(
        row("open_tree_attr", SYS_OPEN_TREE_ATTR, EPERM),
        "allow.mount",
    ),
    opened(
        row("mount_setattr", libc::SYS_mount_setattr, EPERM),
        "allow.mount",
    ),
    // new user namespaces; clone3's flags are out of reach
    when(
        row("unshare", libc::SYS_unshare, EPERM),
        Refuse::AnyBit(0, libc::CLONE_NEWUSER as u64),
    ),
    when(
        row("clone", libc::SYS_clone, EPERM),
        Refuse::AnyBit(0, libc::CLONE_NEWUSER as u64),
    ),
    row("clone3", libc::SYS_clone3, ENOSYS),
    // personality tricks (ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, ...)
    when(
        row("personality", libc::SYS_personality, EPERM),
        Refuse::NoneOf(0, PERSONALITIES),
    ),
    // terminal injection through a shared tty
    when(
        row("ioctl", libc::SYS_ioctl, EPERM),
        Refuse::Equal(1, libc::TIOCSTI),
    ),
    when(
        row("ioctl", libc::SYS_ioctl, EPERM),
        Refuse::Equal(1, libc::TIOCLINUX),
    ),
    // rare socket families
    opened(
        when(
            row("socket", libc::SYS_socket, libc::EAFNOSUPPORT),
            Refuse::NoneOf(0, FAMILIES),
        ),
        "allow.socket_af",
    ),
    opened(
        when(
            row("socketpair", libc::SYS_socketpair, libc::EAFNOSUPPORT),
            Refuse::NoneOf(0, FAMILIES),
        ),
        "allow.socket_af",
    ),
    // removed from Linux; kept refused should a kernel still build them
    row("uselib", libc::SYS_uselib, ENOSYS),
    row("nfsservctl", libc::SYS_nfsservctl, ENOSYS),
    row("_sysctl", libc::SYS__sysctl, ENOSYS),
];

/// What `row` refuses for a zone with `params`: None when it is opened
/// entirely.
pub fn refusal(row: &Row, params: &Params) -> Option<Refuse> {
    match row.opened_by {
        Some(p) if params.bool(p) == Some(true) => row.opened_to,
        _ => Some(row.refuse),
    }
}

/// The names of the calls refused (entirely or in part) for `params`, for
/// messages and documentation.
pub fn refused(params: &Params) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = PROFILE
        .iter()
        .filter(|r| refusal(r, params).is_some())
        .map(|r| r.name)
        .collect();
    v.dedup();
    v
}

/// A compiled filter, ready to load (module comment).
#[derive(Clone, Debug)]
pub struct Filter {
    prog: Box<[libc::sock_filter]>,
    /// The container's own profile (`seccomp.profile`), loaded on top
    /// ([`super::seccomp_oci`]).
    stacked: Option<super::seccomp_oci::Program>,
}

// Classic BPF opcodes (linux/bpf_common.h).
/// BPF_LD | BPF_W | BPF_ABS (0x00 | 0x00 | 0x20).
const BPF_LD_W_ABS: u16 = 0x20;
const BPF_JMP_JA: u16 = 0x05;
const BPF_JMP_JEQ_K: u16 = 0x05 | 0x10;
const BPF_JMP_JGE_K: u16 = 0x05 | 0x30;
const BPF_JMP_JSET_K: u16 = 0x05 | 0x40;
const BPF_RET_K: u16 = 0x06;
/// Offsets in struct seccomp_data: nr, arch, then (after the u64 ip) the
/// six u64 arguments; an argument's low 32 bits are its first 4 bytes
/// (x86_64 is little-endian).
const DATA_NR: u32 = 0;
const DATA_ARCH: u32 = 4;
const DATA_ARGS: u32 = 16;
/// Calls compared one by one at a leaf of the number tree (module
/// comment, "The program").
const LEAF: usize = 4;

/// A BPF statement (no branch); shared with [`super::seccomp_oci`].
pub(super) fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

/// A BPF conditional jump; shared with [`super::seccomp_oci`].
pub(super) fn jump(code: u16, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

fn ret_errno(e: i32) -> libc::sock_filter {
    stmt(
        BPF_RET_K,
        libc::SECCOMP_RET_ERRNO | (e as u32 & libc::SECCOMP_RET_DATA),
    )
}

fn compile_err(message: String) -> RuntimeError {
    RuntimeError::new("seccomp", message)
}

/// Where a jump goes: the next instruction, or a label.
#[derive(Clone, Copy)]
enum To {
    Next,
    Label(usize),
}

/// A classic BPF assembler with forward labels: the jumps are resolved
/// by [`Asm::finish`], which refuses one that goes backwards or does not
/// fit (8 bits for a conditional jump).
#[derive(Default)]
struct Asm {
    code: Vec<(libc::sock_filter, To, To)>,
    labels: Vec<Option<usize>>,
}

impl Asm {
    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }
    fn bind(&mut self, l: usize) {
        self.labels[l] = Some(self.code.len());
    }
    /// An instruction as it is (a jump with its offsets already set).
    fn op(&mut self, i: libc::sock_filter) {
        self.code.push((i, To::Next, To::Next));
    }
    /// A conditional jump (`code` one of JEQ, JGE, JSET with constant `k`).
    fn cond(&mut self, code: u16, k: u32, jt: To, jf: To) {
        self.code.push((jump(code, k, 0, 0), jt, jf));
    }
    fn ja(&mut self, l: usize) {
        self.code
            .push((stmt(BPF_JMP_JA, 0), To::Label(l), To::Next));
    }
    /// Load the low 32 bits of argument `i`.
    fn arg(&mut self, i: u8) {
        self.op(stmt(BPF_LD_W_ABS, DATA_ARGS + 8 * i as u32));
    }
    fn finish(self) -> Result<Vec<libc::sock_filter>, RuntimeError> {
        let labels = self.labels;
        let offset = |pc: usize, to: To| -> Result<u32, RuntimeError> {
            match to {
                To::Next => Ok(0),
                To::Label(l) => match labels[l] {
                    Some(at) if at > pc => Ok((at - pc - 1) as u32),
                    _ => Err(compile_err(format!(
                        "a jump at {pc} to label {l} that is not ahead of it"
                    ))),
                },
            }
        };
        let mut out = Vec::with_capacity(self.code.len());
        for (pc, (mut i, jt, jf)) in self.code.into_iter().enumerate() {
            if matches!((jt, jf), (To::Next, To::Next)) {
                // Not a jump, or one written with its offsets (`op`).
            } else if i.code == BPF_JMP_JA {
                i.k = offset(pc, jt)?;
            } else if i.code & 0x07 == 0x05 {
                let (t, f) = (offset(pc, jt)?, offset(pc, jf)?);
                if t > 255 || f > 255 {
                    return Err(compile_err(format!(
                        "a conditional jump at {pc} of {t}/{f} instructions (at most 255)"
                    )));
                }
                (i.jt, i.jf) = (t as u8, f as u8);
            }
            out.push(i);
        }
        Ok(out)
    }
}

/// What one call is refused for, by errno (ascending: a call refused
/// with two errnos answers the lower one whose condition holds); None:
/// whatever the arguments.
type Refusals = BTreeMap<i32, Option<Vec<Refuse>>>;

/// A register value compared on its low 32 bits (module comment).
fn low32(name: &str, v: u64) -> Result<u32, RuntimeError> {
    u32::try_from(v).map_err(|_| {
        compile_err(format!(
            "{name}: {v:#x} does not fit the 32 bits the filter compares"
        ))
    })
}

/// The code of one call, reached with its number matched: each errno's
/// conditions in turn (a condition that holds returns that errno), then
/// allow.
fn emit_call(a: &mut Asm, name: &str, refusals: &Refusals) -> Result<(), RuntimeError> {
    for (errno, conds) in refusals {
        let Some(conds) = conds else {
            a.op(ret_errno(*errno));
            return Ok(());
        };
        let (hit, miss) = (a.label(), a.label());
        for r in conds {
            match *r {
                Refuse::Always => unreachable!("kept as None"),
                Refuse::AnyBit(i, mask) => {
                    a.arg(i);
                    a.cond(BPF_JMP_JSET_K, low32(name, mask)?, To::Label(hit), To::Next);
                }
                Refuse::Equal(i, v) => {
                    a.arg(i);
                    a.cond(BPF_JMP_JEQ_K, low32(name, v)?, To::Label(hit), To::Next);
                }
                Refuse::NoneOf(i, set) => {
                    let ok = a.label();
                    a.arg(i);
                    for v in set {
                        a.cond(BPF_JMP_JEQ_K, low32(name, *v)?, To::Label(ok), To::Next);
                    }
                    a.ja(hit);
                    a.bind(ok);
                }
            }
        }
        a.ja(miss);
        a.bind(hit);
        a.op(ret_errno(*errno));
        a.bind(miss);
    }
    a.op(stmt(BPF_RET_K, libc::SECCOMP_RET_ALLOW));
    Ok(())
}

/// The number tree over `calls` (sorted by number), the accumulator
/// holding the number: halves split on `nr >= K` down to leaves of at
/// most [`LEAF`] calls compared in turn; a number no leaf names is
/// allowed.
fn emit_tree(a: &mut Asm, calls: &[(u32, &'static str, Refusals)]) -> Result<(), RuntimeError> {
    if calls.len() <= LEAF {
        for (nr, name, refusals) in calls {
            let other = a.label();
            a.cond(BPF_JMP_JEQ_K, *nr, To::Next, To::Label(other));
            emit_call(a, name, refusals)?;
            a.bind(other);
        }
        a.op(stmt(BPF_RET_K, libc::SECCOMP_RET_ALLOW));
        return Ok(());
    }
    let (low, high) = calls.split_at(calls.len() / 2);
    // nr >= high[0]: on to the JA to the upper half; else past it.
    let (lower, upper) = (a.label(), a.label());
    a.cond(BPF_JMP_JGE_K, high[0].0, To::Next, To::Label(lower));
    a.ja(upper);
    a.bind(lower);
    emit_tree(a, low)?;
    a.bind(upper);
    emit_tree(a, high)
}

impl Filter {
    /// Compile the zone's filter from its parameters (the allow.* rows).
    pub fn for_params(params: &Params) -> Result<Filter, RuntimeError> {
        // number -> (name, errno -> conditions).
        let mut calls: BTreeMap<u32, (&'static str, Refusals)> = BTreeMap::new();
        for r in PROFILE {
            let Some(refuse) = refusal(r, params) else {
                continue;
            };
            let nr = u32::try_from(r.nr)
                .ok()
                .filter(|n| *n < FIRST_UNKNOWN)
                .ok_or_else(|| compile_err(format!("{}: number {} out of range", r.name, r.nr)))?;
            let (_, refusals) = calls.entry(nr).or_insert((r.name, BTreeMap::new()));
            let cond = match refuse {
                Refuse::Always => None,
                other => Some(vec![other]),
            };
            match refusals.entry(r.errno) {
                Entry::Vacant(v) => {
                    v.insert(cond);
                }
                // Refused outright by either row: stays outright.
                Entry::Occupied(mut o) => match (o.get_mut(), cond) {
                    (Some(list), Some(more)) => list.extend(more),
                    (slot, _) => *slot = None,
                },
            }
        }
        let calls: Vec<(u32, &'static str, Refusals)> =
            calls.into_iter().map(|(nr, (n, r))| (nr, n, r)).collect();
        let mut a = Asm::default();
        for i in [
            stmt(BPF_LD_W_ABS, DATA_ARCH),
            jump(BPF_JMP_JEQ_K, AUDIT_ARCH_X86_64, 1, 0),
            ret_errno(libc::ENOSYS),
            stmt(BPF_LD_W_ABS, DATA_NR),
            // x32 numbers (bit 30) are all above FIRST_UNKNOWN too; two
            // checks so that each door is visibly shut.
            jump(BPF_JMP_JGE_K, X32_SYSCALL_BIT, 2, 0),
            jump(BPF_JMP_JGE_K, FIRST_UNKNOWN, 1, 0),
            stmt(BPF_JMP_JA, 1),
            ret_errno(libc::ENOSYS),
        ] {
            a.op(i);
        }
        emit_tree(&mut a, &calls)?;
        let prog = a.finish()?;
        if prog.len() > 4096 {
            return Err(compile_err(format!(
                "the program has {} instructions, more than the kernel's 4096",
                prog.len()
            )));
        }
        Ok(Filter {
            prog: prog.into_boxed_slice(),
            stacked: super::seccomp_oci::for_params(params)?,
        })
    }

    /// Number of BPF instructions.
    pub fn len(&self) -> usize {
        self.prog.len()
    }

    pub fn is_empty(&self) -> bool {
        self.prog.is_empty()
    }

    /// The program, for inspection.
    pub fn instructions(&self) -> &[libc::sock_filter] {
        &self.prog
    }

    /// Load the filter on the calling thread (and so on everything it forks
    /// and execs from now on). Async-signal-safe: one system call, no
    /// allocation, no lock. Does not set no_new_privs; the caller must have
    /// CAP_SYS_ADMIN (else EACCES). Returns the errno on failure.
    pub fn apply(&self) -> Result<(), i32> {
        load(&self.prog, 0)?;
        match &self.stacked {
            Some(p) => p.apply(),
            None => Ok(()),
        }
    }
}

/// seccomp(SECCOMP_SET_MODE_FILTER, flags, prog) on the calling thread:
/// the one loader of the zone's filter and of a container's profile
/// stacked on it ([`super::seccomp_oci`]). Async-signal-safe: one system
/// call, no allocation, no lock. Sets no no_new_privs, so the caller must
/// hold CAP_SYS_ADMIN (else EACCES). Returns the errno on failure.
pub fn load(prog: &[libc::sock_filter], flags: u32) -> Result<(), i32> {
    let fprog = libc::sock_fprog {
        len: prog.len() as libc::c_ushort,
        filter: prog.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: seccomp(SECCOMP_SET_MODE_FILTER, flags, &fprog) reads `len`
    // instructions from `filter`, which points to the caller's slice of
    // exactly that length, alive for the duration of the call; the kernel
    // copies the program and keeps no pointer to it (nor writes to it).
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER as libc::c_ulong,
            flags as libc::c_ulong,
            &fprog as *const libc::sock_fprog,
        )
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
    }
    Ok(())
}

/// A process's seccomp state from /proc/PID/status: (`Seccomp`, mode 2 =
/// filtered; `Seccomp_filters`, the number of filters stacked).
pub fn status(pid: u32) -> std::io::Result<(u32, u32)> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{path}: {e}")))?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse::<u32>().ok())
    };
    match (field("Seccomp:"), field("Seccomp_filters:")) {
        (Some(m), Some(n)) => Ok((m, n)),
        _ => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{path}: no Seccomp/Seccomp_filters lines"),
        )),
    }
}

#[cfg(test)]
mod tests {
    //! Each test forks a child (raw system calls only after the fork: the
    //! test harness is multithreaded), applies the filter there, makes the
    //! calls and sends back what each returned. Every refused call is also
    //! made once without the filter, where its answer must differ: a test
    //! that would pass on an empty filter proves nothing. Arguments are
    //! chosen so that a call the filter failed to refuse is harmless
    //! (invalid flags, missing paths, a bad descriptor).

    use super::*;
    use crate::param::Value;
    use std::ffi::CStr;

    /// What a call returned: its result, or -errno.
    fn sys(r: i64) -> i64 {
        if r < 0 {
            -(std::io::Error::last_os_error().raw_os_error().unwrap_or(0) as i64)
        } else {
            r
        }
    }

    fn call(nr: i64, a: [u64; 6]) -> i64 {
        // SAFETY: every probe passes null pointers, bad descriptors or
        // pointers to static C strings; the kernel checks them.
        sys(unsafe { libc::syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) })
    }

    fn s(c: &'static CStr) -> u64 {
        c.as_ptr() as u64
    }

    /// A system call through the i386 ABI (`int 0x80`), as a 64-bit process
    /// may make it; the arguments (ebx, ecx, edx) are whatever is there.
    fn int80(nr: i64) -> i64 {
        let ret: i64;
        // SAFETY: int 0x80 enters the kernel's i386 entry; it returns in
        // eax and may clear r8-r11, which are declared clobbered. The
        // filter answers before the kernel reads any argument; without the
        // filter the probes used (getpid) read none.
        unsafe {
            std::arch::asm!(
                "int 0x80",
                inlateout("rax") nr => ret,
                lateout("r8") _, lateout("r9") _, lateout("r10") _, lateout("r11") _,
                options(nostack)
            );
        }
        // The i386 return value is 32 bits, sign-extended for us.
        ret as i32 as i64
    }

    const NOPATH: &CStr = c"/nonexistent-zones-seccomp-test";

    /// What a probe must see under the filter.
    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Want {
        /// Refused with this errno.
        Errno(i32),
        /// Not refused: succeeds.
        Ok,
        /// Not refused by the filter: whatever the kernel says, but not this.
        Not(i32),
    }
    use Want::*;

    struct Case {
        name: &'static str,
        probe: fn() -> i64,
        want: Want,
        /// The unfiltered answer must differ (false where the kernel answers
        /// the same on its own: calls Linux removed, numbers it lacks).
        differs: bool,
    }

    fn case(name: &'static str, probe: fn() -> i64, want: Want) -> Case {
        Case {
            name,
            probe,
            want,
            differs: true,
        }
    }

    fn same(mut c: Case) -> Case {
        c.differs = false;
        c
    }

    fn fork_probe(flags: u64) -> i64 {
        let r = call(libc::SYS_clone, [flags, 0, 0, 0, 0, 0]);
        if r == 0 {
            // SAFETY: the new child leaves at once.
            unsafe { libc::_exit(0) };
        }
        if r > 0 {
            // SAFETY: reaping our own child.
            unsafe { libc::waitpid(r as i32, std::ptr::null_mut(), libc::__WALL) };
            return 0;
        }
        r
    }

    /// Run `p` in a child of its own, so that what it changes (a new user
    /// namespace) does not change the probes after it; its result back
    /// through the exit status.
    fn alone(p: fn() -> i64) -> i64 {
        let r = call(libc::SYS_clone, [libc::SIGCHLD as u64, 0, 0, 0, 0, 0]);
        if r == 0 {
            let v = p();
            // SAFETY: the child leaves with its result: 0 or the errno.
            unsafe { libc::_exit(if v < 0 { (-v) as i32 } else { 0 }) };
        }
        if r < 0 {
            return r;
        }
        let mut status = 0;
        // SAFETY: reaping our own child.
        unsafe { libc::waitpid(r as i32, &mut status, 0) };
        match libc::WEXITSTATUS(status) {
            0 => 0,
            e => -(e as i64),
        }
    }

    fn refused_cases() -> Vec<Case> {
        use libc::*;
        let p = EPERM;
        vec![
            case(
                "keyctl",
                || call(SYS_keyctl, [0, -3i64 as u64, 0, 0, 0, 0]),
                Errno(ENOSYS),
            ),
            case("add_key", || call(SYS_add_key, [0; 6]), Errno(ENOSYS)),
            case(
                "request_key",
                || call(SYS_request_key, [0; 6]),
                Errno(ENOSYS),
            ),
            case("init_module", || call(SYS_init_module, [0; 6]), Errno(p)),
            case(
                "finit_module",
                || call(SYS_finit_module, [u64::MAX, 0, 0, 0, 0, 0]),
                Errno(p),
            ),
            case(
                "delete_module",
                || {
                    call(
                        SYS_delete_module,
                        [s(c"zones_seccomp_none"), O_NONBLOCK as u64, 0, 0, 0, 0],
                    )
                },
                Errno(p),
            ),
            case(
                "kexec_load",
                || call(SYS_kexec_load, [0, 0, 0, 0xdead_0000, 0, 0]),
                Errno(p),
            ),
            case(
                "kexec_file_load",
                || {
                    call(
                        SYS_kexec_file_load,
                        [u64::MAX, u64::MAX, 0, 0, 0xdead_0000, 0],
                    )
                },
                Errno(p),
            ),
            case("bpf", || call(SYS_bpf, [0x7fff, 0, 0, 0, 0, 0]), Errno(p)),
            case(
                "perf_event_open",
                || call(SYS_perf_event_open, [0, 0, u64::MAX, u64::MAX, 0, 0]),
                Errno(p),
            ),
            case(
                "lookup_dcookie",
                || call(SYS_lookup_dcookie, [0; 6]),
                Errno(p),
            ),
            case(
                "userfaultfd",
                || call(SYS_userfaultfd, [0xdead_0000, 0, 0, 0, 0, 0]),
                Errno(p),
            ),
            case(
                "io_uring_setup",
                || call(SYS_io_uring_setup, [0; 6]),
                Errno(ENOSYS),
            ),
            case(
                "io_uring_enter",
                || call(SYS_io_uring_enter, [u64::MAX, 0, 0, 0, 0, 0]),
                Errno(ENOSYS),
            ),
            case(
                "io_uring_register",
                || call(SYS_io_uring_register, [u64::MAX, 0, 0, 0, 0, 0]),
                Errno(ENOSYS),
            ),
            case(
                "open_by_handle_at",
                || call(SYS_open_by_handle_at, [u64::MAX, 0, 0, 0, 0, 0]),
                Errno(p),
            ),
            case(
                "acct",
                || call(SYS_acct, [s(NOPATH), 0, 0, 0, 0, 0]),
                Errno(p),
            ),
            case(
                "swapon",
                || call(SYS_swapon, [s(NOPATH), 0, 0, 0, 0, 0]),
                Errno(p),
            ),
            case(
                "swapoff",
                || call(SYS_swapoff, [s(NOPATH), 0, 0, 0, 0, 0]),
                Errno(p),
            ),
            case("reboot (bad magic)", || call(SYS_reboot, [0; 6]), Errno(p)),
            case("iopl", || call(SYS_iopl, [0; 6]), Errno(p)),
            case("ioperm", || call(SYS_ioperm, [0; 6]), Errno(p)),
            case(
                "fanotify_init",
                || call(SYS_fanotify_init, [0xdead_0000, 0, 0, 0, 0, 0]),
                Errno(p),
            ),
            case("syslog CLOSE", || call(SYS_syslog, [0; 6]), Errno(p)),
            case(
                "syslog SIZE_BUFFER",
                || call(SYS_syslog, [10, 0, 0, 0, 0, 0]),
                Errno(p),
            ),
            case("quotactl", || call(SYS_quotactl, [0; 6]), Errno(p)),
            case(
                "quotactl_fd",
                || call(SYS_quotactl_fd, [u64::MAX, 0, 0, 0, 0, 0]),
                Errno(p),
            ),
            case("settimeofday", || call(SYS_settimeofday, [0; 6]), Errno(p)),
            case(
                "clock_settime",
                || call(SYS_clock_settime, [0; 6]),
                Errno(p),
            ),
            case("adjtimex", || call(SYS_adjtimex, [0; 6]), Errno(p)),
            case(
                "clock_adjtime",
                || call(SYS_clock_adjtime, [0; 6]),
                Errno(p),
            ),
            case("mount", || call(SYS_mount, [0; 6]), Errno(p)),
            case(
                "umount2",
                || call(SYS_umount2, [s(NOPATH), 0, 0, 0, 0, 0]),
                Errno(p),
            ),
            case("pivot_root", || call(SYS_pivot_root, [0; 6]), Errno(p)),
            case(
                "fsopen",
                || call(SYS_fsopen, [s(c"zones_no_such_fs"), 0, 0, 0, 0, 0]),
                Errno(p),
            ),
            case(
                "fsconfig",
                || call(SYS_fsconfig, [u64::MAX, 0, 0, 0, 0, 0]),
                Errno(p),
            ),
            case(
                "fsmount",
                || call(SYS_fsmount, [u64::MAX, 0, 0, 0, 0, 0]),
                Errno(p),
            ),
            case(
                "fspick",
                || call(SYS_fspick, [u64::MAX, 0, 0, 0, 0, 0]),
                Errno(p),
            ),
            case(
                "move_mount",
                || call(SYS_move_mount, [u64::MAX, 0, u64::MAX, 0, 0, 0]),
                Errno(p),
            ),
            case(
                "open_tree",
                || call(SYS_open_tree, [u64::MAX, 0, 0, 0, 0, 0]),
                Errno(p),
            ),
            case(
                "open_tree_attr",
                || call(SYS_OPEN_TREE_ATTR, [u64::MAX, 0, 0, 0, 0, 0]),
                Errno(p),
            ),
            case(
                "mount_setattr",
                || call(SYS_mount_setattr, [u64::MAX, 0, 0, 0, 0, 0]),
                Errno(p),
            ),
            case(
                "clone NEWUSER",
                || alone(|| fork_probe((CLONE_NEWUSER | SIGCHLD) as u64)),
                Errno(p),
            ),
            case(
                "unshare NEWUSER",
                || alone(|| call(SYS_unshare, [CLONE_NEWUSER as u64, 0, 0, 0, 0, 0])),
                Errno(p),
            ),
            case(
                "unshare NEWUSER|NEWNS",
                || {
                    alone(|| {
                        call(
                            SYS_unshare,
                            [(CLONE_NEWUSER | CLONE_NEWNS) as u64, 0, 0, 0, 0, 0],
                        )
                    })
                },
                Errno(p),
            ),
            case("clone3", || call(SYS_clone3, [0; 6]), Errno(ENOSYS)),
            case(
                "personality ADDR_NO_RANDOMIZE",
                || call(SYS_personality, [0x0040000, 0, 0, 0, 0, 0]),
                Errno(p),
            ),
            case(
                "personality READ_IMPLIES_EXEC (high bits set)",
                || call(SYS_personality, [0x1_0040_0000, 0, 0, 0, 0, 0]),
                Errno(p),
            ),
            case(
                "ioctl TIOCSTI",
                || call(SYS_ioctl, [u64::MAX, TIOCSTI, 0, 0, 0, 0]),
                Errno(p),
            ),
            case(
                "ioctl TIOCSTI (high bits set)",
                || {
                    call(
                        SYS_ioctl,
                        [u64::MAX, TIOCSTI | 0xffff_0000_0000, 0, 0, 0, 0],
                    )
                },
                Errno(p),
            ),
            case(
                "ioctl TIOCLINUX",
                || call(SYS_ioctl, [u64::MAX, TIOCLINUX, 0, 0, 0, 0]),
                Errno(p),
            ),
            case(
                "socket AF_VSOCK",
                || {
                    call(
                        SYS_socket,
                        [
                            AF_VSOCK as u64,
                            (SOCK_SEQPACKET | SOCK_CLOEXEC) as u64,
                            0,
                            0,
                            0,
                            0,
                        ],
                    )
                },
                Errno(EAFNOSUPPORT),
            ),
            case(
                "socketpair AF_VSOCK",
                || {
                    call(
                        SYS_socketpair,
                        [AF_VSOCK as u64, SOCK_SEQPACKET as u64, 0, 0, 0, 0],
                    )
                },
                Errno(EAFNOSUPPORT),
            ),
            same(case("uselib", || call(SYS_uselib, [0; 6]), Errno(ENOSYS))),
            same(case(
                "nfsservctl",
                || call(SYS_nfsservctl, [0; 6]),
                Errno(ENOSYS),
            )),
            same(case("_sysctl", || call(SYS__sysctl, [0; 6]), Errno(ENOSYS))),
            same(case("number 470", || call(470, [0; 6]), Errno(ENOSYS))),
            same(case("number 1000", || call(1000, [0; 6]), Errno(ENOSYS))),
            // This kernel has no x32 ABI (CONFIG_X86_X32_ABI=n): unfiltered,
            // the call is ENOSYS too; on a kernel with it, it is getpid.
            same(case(
                "x32 getpid",
                || call(39 | 0x4000_0000, [0; 6]),
                Errno(ENOSYS),
            )),
            same(case(
                "x32 keyctl",
                || call(250 | 0x4000_0000, [0, -3i64 as u64, 0, 0, 0, 0]),
                Errno(ENOSYS),
            )),
            case("i386 getpid (int 0x80)", || int80(20), Errno(ENOSYS)),
        ]
    }

    fn allowed_cases() -> Vec<Case> {
        use libc::*;
        vec![
            case("getpid", || call(SYS_getpid, [0; 6]), Ok),
            case(
                "openat /dev/null",
                || {
                    let fd = call(
                        SYS_openat,
                        [AT_FDCWD as u64, s(c"/dev/null"), O_RDONLY as u64, 0, 0, 0],
                    );
                    if fd >= 0 {
                        call(SYS_close, [fd as u64, 0, 0, 0, 0, 0]);
                    }
                    fd
                },
                Ok,
            ),
            case("clone (fork)", || fork_probe(SIGCHLD as u64), Ok),
            case("setresuid", || call(SYS_setresuid, [0, 0, 0, 0, 0, 0]), Ok),
            case("setresgid", || call(SYS_setresgid, [0, 0, 0, 0, 0, 0]), Ok),
            case(
                "unshare NEWUTS",
                || call(SYS_unshare, [CLONE_NEWUTS as u64, 0, 0, 0, 0, 0]),
                Ok,
            ),
            case(
                "personality query",
                || call(SYS_personality, [0xffff_ffff, 0, 0, 0, 0, 0]),
                Ok,
            ),
            case(
                "personality PER_LINUX",
                || call(SYS_personality, [0, 0, 0, 0, 0, 0]),
                Ok,
            ),
            case(
                "ioctl FIONREAD",
                || call(SYS_ioctl, [u64::MAX, FIONREAD, 0, 0, 0, 0]),
                Not(EPERM),
            ),
            case(
                "socket AF_INET",
                || {
                    let fd = call(
                        SYS_socket,
                        [
                            AF_INET as u64,
                            (SOCK_DGRAM | SOCK_CLOEXEC) as u64,
                            0,
                            0,
                            0,
                            0,
                        ],
                    );
                    if fd >= 0 {
                        call(SYS_close, [fd as u64, 0, 0, 0, 0, 0]);
                    }
                    fd
                },
                Ok,
            ),
            case(
                "clock_gettime",
                || {
                    let mut ts = libc::timespec {
                        tv_sec: 0,
                        tv_nsec: 0,
                    };
                    call(SYS_clock_gettime, [0, &mut ts as *mut _ as u64, 0, 0, 0, 0])
                },
                Ok,
            ),
            case(
                "number 469 (file_setattr)",
                || call(469, [u64::MAX, 0, 0, 0, 0, 0]),
                Not(ENOSYS),
            ),
            case(
                "setns bad fd",
                || call(SYS_setns, [u64::MAX, 0, 0, 0, 0, 0]),
                Not(EPERM),
            ),
        ]
    }

    /// Run each probe in a forked child, after applying `filter` when
    /// given; the results in order.
    fn in_child(filter: Option<&Filter>, probes: &[fn() -> i64]) -> Vec<i64> {
        assert_eq!(
            // SAFETY: geteuid has no preconditions and cannot fail.
            unsafe { libc::geteuid() },
            0,
            "seccomp tests need root (CAP_SYS_ADMIN)"
        );
        let mut fds = [0i32; 2];
        // SAFETY: pipe2 fills two descriptors into the array.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // Allocated before the fork: the child only writes into its copy.
        let mut out = vec![0i64; probes.len() + 1];
        // SAFETY: the child only makes system calls and writes to memory
        // allocated before the fork, then _exits.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork");
        if pid == 0 {
            out[0] = match filter.map(Filter::apply) {
                Some(Err(e)) => -(e as i64),
                _ => 0,
            };
            if out[0] == 0 {
                for (i, p) in probes.iter().enumerate() {
                    out[i + 1] = p();
                }
            }
            // SAFETY: writing our own buffer to our own pipe, then leaving.
            unsafe {
                libc::write(fds[1], out.as_ptr().cast(), out.len() * 8);
                libc::_exit(0);
            }
        }
        // SAFETY: closing our copy of the write end.
        unsafe { libc::close(fds[1]) };
        let mut buf = vec![0u8; out.len() * 8];
        let mut got = 0;
        while got < buf.len() {
            // SAFETY: reading into the rest of our buffer.
            let n = unsafe { libc::read(fds[0], buf[got..].as_mut_ptr().cast(), buf.len() - got) };
            assert!(
                n > 0,
                "the probing child died early (read {got} of {} bytes)",
                buf.len()
            );
            got += n as usize;
        }
        let mut status = 0;
        // SAFETY: reaping our child; closing our read end.
        unsafe {
            libc::waitpid(pid, &mut status, 0);
            libc::close(fds[0]);
        }
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "child status {status:#x}"
        );
        let res: Vec<i64> = buf
            .chunks(8)
            .map(|c| i64::from_ne_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(res[0], 0, "applying the filter failed: errno {}", -res[0]);
        res[1..].to_vec()
    }

    fn holds(want: Want, got: i64) -> bool {
        match want {
            Errno(e) => got == -(e as i64),
            Ok => got >= 0,
            Not(e) => got != -(e as i64),
        }
    }

    /// Check `cases` under `filter` (and, for `differs`, without it).
    fn check(filter: &Filter, cases: &[Case]) {
        let probes: Vec<fn() -> i64> = cases.iter().map(|c| c.probe).collect();
        let filtered = in_child(Some(filter), &probes);
        let bare = in_child(None, &probes);
        let mut bad = Vec::new();
        for ((c, f), b) in cases.iter().zip(&filtered).zip(&bare) {
            if !holds(c.want, *f) {
                bad.push(format!(
                    "{}: want {:?}, got {f} (unfiltered {b})",
                    c.name, c.want
                ));
            }
            if c.differs && matches!(c.want, Errno(_)) && holds(c.want, *b) {
                bad.push(format!(
                    "{}: unfiltered also gives {b}: the probe proves nothing",
                    c.name
                ));
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    fn with(allow: &[&str]) -> Filter {
        let mut p = Params::new();
        for a in allow {
            p.insert(a, Value::Bool(true));
        }
        Filter::for_params(&p).expect("compile")
    }

    #[test]
    fn default_filter_refuses_every_class_with_its_errno() {
        check(&with(&[]), &refused_cases());
    }

    #[test]
    fn default_filter_lets_ordinary_calls_through() {
        check(&with(&[]), &allowed_cases());
    }

    #[test]
    fn filtered_process_shows_seccomp_2_and_one_filter() {
        let f = with(&[]);
        fn mode() -> i64 {
            // SAFETY: prctl(PR_GET_SECCOMP) takes no pointer.
            sys(unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) } as i64)
        }
        assert_eq!(in_child(Some(&f), &[mode]), vec![2]);
        assert_eq!(in_child(None, &[mode]), vec![0]);
        // status() reads the same from /proc.
        let (m, _) = status(std::process::id()).unwrap();
        assert_eq!(m, 0, "the test process itself is not filtered");
    }

    #[test]
    fn apply_does_not_set_no_new_privs() {
        fn nnp() -> i64 {
            // SAFETY: prctl(PR_GET_NO_NEW_PRIVS) takes no pointer.
            sys(unsafe { libc::prctl(libc::PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) } as i64)
        }
        assert_eq!(in_child(Some(&with(&[])), &[nnp]), vec![0]);
    }

    #[test]
    fn i386_entry_is_refused_whatever_the_number() {
        // i386 keyctl (288) would slip past an x86_64 denylist.
        let f = with(&[]);
        let got = in_child(Some(&f), &[|| int80(288), || int80(20), || int80(1)]);
        assert_eq!(got, vec![-38, -38, -38]);
    }

    fn opens(param: &str, opened: Vec<Case>, still: Vec<Case>) {
        let f = with(&[param]);
        let d = with(&[]);
        // Under the default filter the opened calls are refused...
        let probes: Vec<fn() -> i64> = opened.iter().map(|c| c.probe).collect();
        let under_default = in_child(Some(&d), &probes);
        for (c, g) in opened.iter().zip(&under_default) {
            assert!(
                PROFILE.iter().any(|r| r.errno as i64 == -g),
                "{param}: {} is not refused by the default filter (got {g})",
                c.name
            );
        }
        // ...with the parameter they pass, and only they.
        check(&f, &opened);
        check(&f, &still);
        check(&f, &allowed_cases());
    }

    fn pick(names: &[&str]) -> Vec<Case> {
        let all = refused_cases();
        let v: Vec<Case> = all
            .into_iter()
            .filter(|c| !names.contains(&c.name))
            .collect();
        assert_eq!(
            v.len() + names.len(),
            refused_cases().len(),
            "unknown case in {names:?}"
        );
        v
    }

    #[test]
    fn allow_mount_opens_the_mount_calls_only() {
        use libc::*;
        let names = [
            "mount",
            "umount2",
            "pivot_root",
            "fsopen",
            "fsconfig",
            "fsmount",
            "fspick",
            "move_mount",
            "open_tree",
            "open_tree_attr",
            "mount_setattr",
        ];
        let opened = vec![
            case("mount", || call(SYS_mount, [0; 6]), Not(EPERM)),
            case(
                "umount2",
                || call(SYS_umount2, [s(NOPATH), 0, 0, 0, 0, 0]),
                Errno(ENOENT),
            ),
            case("pivot_root", || call(SYS_pivot_root, [0; 6]), Not(EPERM)),
            case(
                "fsopen",
                || call(SYS_fsopen, [s(c"zones_no_such_fs"), 0, 0, 0, 0, 0]),
                Errno(ENODEV),
            ),
            case(
                "fsconfig",
                || call(SYS_fsconfig, [u64::MAX, 0, 0, 0, 0, 0]),
                Not(EPERM),
            ),
            case(
                "fsmount",
                || call(SYS_fsmount, [u64::MAX, 0, 0, 0, 0, 0]),
                Not(EPERM),
            ),
            case(
                "fspick",
                || call(SYS_fspick, [u64::MAX, 0, 0, 0, 0, 0]),
                Not(EPERM),
            ),
            case(
                "move_mount",
                || call(SYS_move_mount, [u64::MAX, 0, u64::MAX, 0, 0, 0]),
                Not(EPERM),
            ),
            case(
                "open_tree",
                || call(SYS_open_tree, [u64::MAX, 0, 0, 0, 0, 0]),
                Not(EPERM),
            ),
            case(
                "open_tree_attr",
                || call(SYS_OPEN_TREE_ATTR, [u64::MAX, 0, 0, 0, 0, 0]),
                Not(EPERM),
            ),
            case(
                "mount_setattr",
                || call(SYS_mount_setattr, [u64::MAX, 0, 0, 0, 0, 0]),
                Not(EPERM),
            ),
        ]
        .into_iter()
        .map(|mut c| {
            c.differs = false;
            c
        })
        .collect();
        opens("allow.mount", opened, pick(&names));
        // allow.mount.<fs> alone opens nothing (FreeBSD: needs allow.mount).
        check(
            &with(&["allow.mount.tmpfs", "allow.mount.procfs"]),
            &refused_cases(),
        );
    }

    #[test]
    fn allow_settime_opens_setting_the_clock_only() {
        use libc::*;
        let opened = vec![
            // settimeofday(NULL, NULL) sets nothing and succeeds.
            same(case("settimeofday", || call(SYS_settimeofday, [0; 6]), Ok)),
            same(case(
                "clock_settime",
                || call(SYS_clock_settime, [0; 6]),
                Errno(EFAULT),
            )),
        ];
        opens(
            "allow.settime",
            opened,
            pick(&["settimeofday", "clock_settime"]),
        );
    }

    #[test]
    fn allow_adjtime_opens_adjusting_the_clock_only() {
        use libc::*;
        let opened = vec![
            same(case(
                "adjtimex",
                || call(SYS_adjtimex, [0; 6]),
                Errno(EFAULT),
            )),
            same(case(
                "clock_adjtime",
                || call(SYS_clock_adjtime, [0; 6]),
                Errno(EFAULT),
            )),
        ];
        opens(
            "allow.adjtime",
            opened,
            pick(&["adjtimex", "clock_adjtime"]),
        );
    }

    #[test]
    fn allow_read_msgbuf_opens_reading_the_kernel_log_only() {
        use libc::*;
        let opened = vec![same(case(
            "syslog SIZE_BUFFER",
            || call(SYS_syslog, [10, 0, 0, 0, 0, 0]),
            Ok,
        ))];
        // CLOSE (and CLEAR, CONSOLE_*: not tried, they act) stay refused.
        opens("allow.read_msgbuf", opened, pick(&["syslog SIZE_BUFFER"]));
    }

    #[test]
    fn allow_quotas_opens_quotactl_only() {
        use libc::*;
        let opened = vec![
            same(case("quotactl", || call(SYS_quotactl, [0; 6]), Not(EPERM))),
            same(case(
                "quotactl_fd",
                || call(SYS_quotactl_fd, [u64::MAX, 0, 0, 0, 0, 0]),
                Not(EPERM),
            )),
        ];
        opens("allow.quotas", opened, pick(&["quotactl", "quotactl_fd"]));
    }

    #[test]
    fn allow_socket_af_opens_other_families_only() {
        use libc::*;
        let opened = vec![same(case(
            "socket AF_VSOCK",
            || {
                let fd = call(
                    SYS_socket,
                    [
                        AF_VSOCK as u64,
                        (SOCK_SEQPACKET | SOCK_CLOEXEC) as u64,
                        0,
                        0,
                        0,
                        0,
                    ],
                );
                if fd >= 0 {
                    call(SYS_close, [fd as u64, 0, 0, 0, 0, 0]);
                }
                fd
            },
            Not(EAFNOSUPPORT),
        ))];
        opens(
            "allow.socket_af",
            opened,
            pick(&["socket AF_VSOCK", "socketpair AF_VSOCK"]),
        );
    }

    #[test]
    fn explicit_false_is_the_default() {
        let mut p = Params::new();
        p.insert("allow.mount", Value::Bool(false));
        p.insert("allow.settime", Value::Bool(false));
        let f = Filter::for_params(&p).unwrap();
        assert_eq!(f.instructions().len(), with(&[]).len());
        check(&f, &refused_cases());
    }

    /// Run `prog` on a seccomp_data as the kernel's classic BPF would:
    /// (the returned action, the number of instructions run).
    fn run(prog: &[libc::sock_filter], arch: u32, nr: u32, args: [u64; 6]) -> (u32, usize) {
        let mut data = Vec::new();
        data.extend_from_slice(&nr.to_ne_bytes());
        data.extend_from_slice(&arch.to_ne_bytes());
        data.extend_from_slice(&0u64.to_ne_bytes());
        for a in args {
            data.extend_from_slice(&a.to_ne_bytes());
        }
        let (mut pc, mut acc, mut steps) = (0usize, 0u32, 0usize);
        loop {
            let i = prog[pc];
            steps += 1;
            match i.code {
                BPF_LD_W_ABS => {
                    let k = i.k as usize;
                    acc = u32::from_ne_bytes(data[k..k + 4].try_into().unwrap());
                    pc += 1;
                }
                BPF_JMP_JA => pc += 1 + i.k as usize,
                BPF_JMP_JEQ_K | BPF_JMP_JGE_K | BPF_JMP_JSET_K => {
                    let t = match i.code {
                        BPF_JMP_JEQ_K => acc == i.k,
                        BPF_JMP_JGE_K => acc >= i.k,
                        _ => acc & i.k != 0,
                    };
                    pc += 1 + if t { i.jt } else { i.jf } as usize;
                }
                BPF_RET_K => return (i.k, steps),
                c => panic!("unexpected opcode {c:#x} at {pc}"),
            }
        }
    }

    /// What the profile says of one call (the rows read directly).
    fn expected(params: &Params, nr: u32, args: [u64; 6]) -> u32 {
        let lo = |i: u8| args[i as usize] & 0xffff_ffff;
        let mut hit: Option<i32> = None;
        for r in PROFILE.iter().filter(|r| r.nr as u32 == nr) {
            let Some(refuse) = refusal(r, params) else {
                continue;
            };
            let m = match refuse {
                Refuse::Always => true,
                Refuse::AnyBit(i, mask) => lo(i) & mask != 0,
                Refuse::Equal(i, v) => lo(i) == v,
                Refuse::NoneOf(i, set) => !set.contains(&lo(i)),
            };
            if m {
                hit = Some(hit.map_or(r.errno, |e| e.min(r.errno)));
            }
        }
        hit.map_or(libc::SECCOMP_RET_ALLOW, |e| {
            libc::SECCOMP_RET_ERRNO | e as u32
        })
    }

    /// Every number up to past the end, with arguments that hit and miss
    /// every row (each value, each mask bit, high bits set, -1), gives
    /// what the rows say, for the default profile and every allow.*; and
    /// no call runs more than a couple of dozen instructions.
    #[test]
    fn program_matches_the_profile_for_every_number() {
        let mut values: Vec<u64> = vec![0, 1, 0xffff_ffff, u64::MAX];
        for r in PROFILE {
            for refuse in [Some(r.refuse), r.opened_to].into_iter().flatten() {
                match refuse {
                    Refuse::Always => {}
                    Refuse::AnyBit(_, m) => values.extend([m, m | 1, 1 << 40 | m, !m]),
                    Refuse::Equal(_, v) => values.extend([v, v + 1, 1 << 40 | v]),
                    Refuse::NoneOf(_, set) => {
                        values.extend(set.iter().flat_map(|v| [*v, *v + 1, 1 << 40 | *v]))
                    }
                }
            }
        }
        let mut all = vec![Params::new()];
        for r in PROFILE {
            if let Some(p) = r.opened_by {
                let mut ps = Params::new();
                ps.insert(p, Value::Bool(true));
                all.push(ps);
            }
        }
        let mut longest = 0;
        for params in &all {
            let f = Filter::for_params(params).unwrap();
            for nr in 0..FIRST_UNKNOWN + 10 {
                for (slot, v) in (0..3).flat_map(|s| values.iter().map(move |v| (s, *v))) {
                    let mut args = [0u64; 6];
                    args[slot] = v;
                    let (got, steps) = run(f.instructions(), AUDIT_ARCH_X86_64, nr, args);
                    let want = if nr >= FIRST_UNKNOWN {
                        libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32
                    } else {
                        expected(params, nr, args)
                    };
                    assert_eq!(
                        got, want,
                        "nr {nr} arg{slot}={v:#x} with {params:?}: {got:#x}, want {want:#x}"
                    );
                    longest = longest.max(steps);
                }
            }
            // Other ABIs: refused before any rule.
            let enosys = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
            assert_eq!(run(f.instructions(), 0x4000_0003, 1, [0; 6]).0, enosys);
            assert_eq!(
                run(
                    f.instructions(),
                    AUDIT_ARCH_X86_64,
                    X32_SYSCALL_BIT | 39,
                    [0; 6]
                )
                .0,
                enosys
            );
        }
        assert!(longest <= 24, "a call runs {longest} instructions");
    }

    #[test]
    fn program_shape() {
        let f = with(&[]);
        // 313 with the linear chain seccompiler made (module comment).
        assert!(f.len() < 240, "{} instructions", f.len());
        let last = f.instructions().last().unwrap();
        assert_eq!((last.code, last.k), (BPF_RET_K, libc::SECCOMP_RET_ALLOW));
        // Every jump lands inside the program.
        for (pc, i) in f.instructions().iter().enumerate() {
            let class = i.code & 0x07;
            if class == 0x05 {
                let targets = if i.code == BPF_JMP_JA {
                    vec![pc + 1 + i.k as usize]
                } else {
                    vec![pc + 1 + i.jt as usize, pc + 1 + i.jf as usize]
                };
                for t in targets {
                    assert!(t < f.len(), "jump at {pc} to {t} past the end");
                }
            }
        }
        // Every row names a call the table knows and a real errno.
        for r in PROFILE {
            assert!(r.nr > 0 && (r.nr as u32) < FIRST_UNKNOWN, "{}", r.name);
            assert!(r.errno > 0, "{}", r.name);
        }
        assert!(refused(&Params::new()).contains(&"keyctl"));
        assert!(
            !refused(&{
                let mut p = Params::new();
                p.insert("allow.mount", Value::Bool(true));
                p
            })
            .contains(&"mount")
        );
    }
}

//! # A container's own seccomp profile, stacked on the zone's filter
//!
//! An OCI bundle may carry a system call profile (`linux.seccomp` in
//! config.json; Podman and containerd pass their default profile with
//! every container). The zone's own filter ([`super::seccomp`]) is the
//! zone's boundary (security.md) and stays as it is; the container's
//! profile is compiled here into a second classic BPF program and loaded
//! **after** it, at the same two places (zsched's child before init, the
//! entering process before the user's command). Filters stack: the kernel
//! runs every loaded filter and takes the most restrictive answer (kill >
//! trap > errno > trace > log > allow; between two errno answers the
//! filter loaded last gives the number). So a call the zone refuses stays
//! refused whatever the profile says, and a call the profile refuses is
//! refused although the zone would allow it. Nothing a profile says can
//! loosen the zone.
//!
//! ## How the profile reaches the zone
//!
//! The zone parameter `seccomp.profile` (create-only) names a host file
//! holding the profile's JSON — the `linux.seccomp` object of the runtime
//! spec, as it is. `zones-oci create` compiles it once to refuse a broken
//! profile (exit 1, runc's, with a message naming the field), then writes
//! it to `seccomp.json` in the container's 0700 state directory and sets
//! the parameter. zsched reads and compiles the file once as the zone is
//! made ready ([`preload`]), before it pivots into the zone's root, where
//! the host path no longer resolves; an entering process (on the host
//! side) reads it again. [`for_params`] gives the program wherever
//! [`super::seccomp::Filter::for_params`] is built (in the parent, where
//! allocation is allowed); [`Program::apply`] is one seccomp(2) call in
//! the forked child. A file that cannot be read or compiled fails the
//! ready or the entry, naming the file: a profile is never dropped
//! silently.
//!
//! ## What is compiled
//!
//! * `defaultAction` / `defaultErrnoRet`: the answer for every call no
//!   rule matches.
//! * `syscalls[]`: `names` (x86_64 names, [`NAMES`], Linux 6.18; a name
//!   this table does not know is skipped, as libseccomp and runc skip a
//!   call the running kernel lacks), `action` / `errnoRet`, `args`
//!   (`index` 0-5, `value`, `valueTwo`, `op` one of SCMP_CMP_NE, LT, LE,
//!   EQ, GE, GT, MASKED_EQ, compared on all 64 bits, unsigned, as
//!   libseccomp does; several args of one rule must all hold).
//! * Actions: SCMP_ACT_ALLOW, ERRNO (errnoRet, default EPERM as runc),
//!   KILL and KILL_THREAD, KILL_PROCESS, TRAP, LOG, TRACE (errnoRet,
//!   default EPERM, the tracer's message). SCMP_ACT_NOTIFY needs a
//!   listener (`listenerPath`), which this runtime does not run: refused,
//!   naming the entry.
//! * `architectures`: names checked (an unknown one is refused); this
//!   host runs x86_64 code only, so the program answers the x86_64 ABI
//!   and leaves every other architecture, and x32 numbers, to the zone's
//!   filter, whose prologue refuses them with ENOSYS (allow here, and the
//!   stricter answer of the zone's filter wins).
//! * `flags`: SECCOMP_FILTER_FLAG_LOG and SPEC_ALLOW are passed to the
//!   kernel; TSYNC is accepted and not needed (the loading process has
//!   one thread); WAIT_KILLABLE_RECV is accepted (it only concerns a
//!   listener). Another flag is refused.
//!
//! Rules of one call: those with `args` are tried first, in the profile's
//! order, the first that holds answers; then the call's first rule
//! without `args` (a later unconditional rule for the same call is
//! ignored, libseccomp refuses it as a duplicate); a call whose rules all
//! have args and none holds gets the default action.
//!
//! ## The program
//!
//! After the architecture and x32 prologue, one block per call number:
//! `jeq nr` (skip the block when it differs), the conditional rules (each
//! condition loads the argument's high and low words; a failing one jumps
//! to the next rule), the unconditional answer or the default; the
//! program ends with the default action. A linear list (unlike the zone
//! filter's tree: a profile is loaded once per container process, and
//! the kernel's action cache answers the calls whose answer does not
//! depend on arguments without running it); Podman's default profile is
//! about 1100 instructions, under the kernel's 4096.

use crate::param::Params;
use crate::runtime::RuntimeError;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The zone parameter naming the profile's file (module comment).
pub const PARAM: &str = "seccomp.profile";

/// SECCOMP_RET_* actions (linux/seccomp.h).
const RET_KILL_PROCESS: u32 = 0x8000_0000;
const RET_KILL_THREAD: u32 = 0x0000_0000;
const RET_TRAP: u32 = 0x0003_0000;
const RET_ERRNO: u32 = 0x0005_0000;
const RET_TRACE: u32 = 0x7ff0_0000;
const RET_LOG: u32 = 0x7ffc_0000;
const RET_ALLOW: u32 = 0x7fff_0000;
/// SECCOMP_FILTER_FLAG_*.
const FLAG_LOG: u32 = 2;
const FLAG_SPEC_ALLOW: u32 = 4;
/// The largest errno the kernel passes back (MAX_ERRNO).
const MAX_ERRNO: u32 = 4095;

// Classic BPF opcodes (linux/bpf_common.h).
const LD_W_ABS: u16 = 0x20;
const JMP_JA: u16 = 0x05;
const JMP_JEQ_K: u16 = 0x15;
const JMP_JGT_K: u16 = 0x25;
const JMP_JGE_K: u16 = 0x35;
const ALU_AND_K: u16 = 0x54;
const RET_K: u16 = 0x06;
const DATA_NR: u32 = 0;
const DATA_ARCH: u32 = 4;
const DATA_ARGS: u32 = 16;

/// The runtime spec's `linux.seccomp` (only what is compiled).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    default_action: String,
    default_errno_ret: Option<u32>,
    #[serde(default, deserialize_with = "list")]
    architectures: Vec<String>,
    #[serde(default, deserialize_with = "list")]
    flags: Vec<String>,
    #[serde(default)]
    listener_path: String,
    #[serde(default, deserialize_with = "list")]
    syscalls: Vec<Syscall>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Syscall {
    #[serde(default, deserialize_with = "list")]
    names: Vec<String>,
    action: String,
    errno_ret: Option<u32>,
    #[serde(default, deserialize_with = "list")]
    args: Vec<Arg>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Arg {
    index: u32,
    value: u64,
    #[serde(default)]
    value_two: u64,
    op: String,
}

/// A list that may also be given as `null` (Podman writes `"args": null`).
fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A compiled profile, ready to load on top of the zone's filter.
#[derive(Clone, Debug)]
pub struct Program {
    prog: Box<[libc::sock_filter]>,
    flags: u32,
}

use super::seccomp::{jump, stmt};

/// The x86_64 number of a system call name.
pub fn number(name: &str) -> Option<u32> {
    NAMES
        .binary_search_by(|(n, _)| (*n).cmp(name))
        .ok()
        .map(|i| NAMES[i].1)
}

/// The SECCOMP_RET value of an action; `field` names it in an error.
fn action(name: &str, errno_ret: Option<u32>, field: &str) -> Result<u32, String> {
    let errno = |default: u32| -> Result<u32, String> {
        let e = errno_ret.unwrap_or(default);
        if e > MAX_ERRNO {
            return Err(format!(
                "{field}: errno {e} is out of range (at most {MAX_ERRNO})"
            ));
        }
        Ok(e)
    };
    Ok(match name {
        "SCMP_ACT_ALLOW" => RET_ALLOW,
        "SCMP_ACT_ERRNO" => RET_ERRNO | errno(libc::EPERM as u32)?,
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => RET_KILL_THREAD,
        "SCMP_ACT_KILL_PROCESS" => RET_KILL_PROCESS,
        "SCMP_ACT_TRAP" => RET_TRAP,
        "SCMP_ACT_LOG" => RET_LOG,
        "SCMP_ACT_TRACE" => RET_TRACE | errno(libc::EPERM as u32)?,
        "SCMP_ACT_NOTIFY" => {
            return Err(format!(
                "{field}: SCMP_ACT_NOTIFY needs a seccomp listener (listenerPath), which zones-oci does not run"
            ));
        }
        other => return Err(format!("{field}: unknown action {other:?}")),
    })
}

/// Architectures libseccomp names (SCMP_ARCH_*).
const ARCHES: &[&str] = &[
    "SCMP_ARCH_NATIVE",
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_RISCV64",
    "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",
    "SCMP_ARCH_SH",
    "SCMP_ARCH_SHEB",
];

/// A jump target inside one rule: an offset, or "the rule fails" (the
/// instruction after the rule's return), patched when its length is known.
#[derive(Clone, Copy)]
enum J {
    Off(u8),
    Fail,
}

/// The instructions of one condition; a failing comparison jumps to Fail.
fn condition(a: &Arg, field: &str) -> Result<Vec<(u16, u32, J, J)>, String> {
    if a.index > 5 {
        return Err(format!(
            "{field}.index: {} is not a system call argument (0-5)",
            a.index
        ));
    }
    let lo_at = DATA_ARGS + 8 * a.index;
    let hi_at = lo_at + 4;
    let (vhi, vlo) = ((a.value >> 32) as u32, a.value as u32);
    let (thi, tlo) = ((a.value_two >> 32) as u32, a.value_two as u32);
    use J::*;
    let ld = |at: u32| (LD_W_ABS, at, Off(0), Off(0));
    let z = Off(0);
    Ok(match a.op.as_str() {
        "SCMP_CMP_EQ" => vec![
            ld(hi_at),
            (JMP_JEQ_K, vhi, z, Fail),
            ld(lo_at),
            (JMP_JEQ_K, vlo, z, Fail),
        ],
        "SCMP_CMP_NE" => vec![
            ld(hi_at),
            (JMP_JEQ_K, vhi, z, Off(2)),
            ld(lo_at),
            (JMP_JEQ_K, vlo, Fail, z),
        ],
        "SCMP_CMP_GT" | "SCMP_CMP_GE" => vec![
            ld(hi_at),
            (JMP_JGT_K, vhi, Off(3), z),
            (JMP_JEQ_K, vhi, z, Fail),
            ld(lo_at),
            (
                if a.op == "SCMP_CMP_GT" {
                    JMP_JGT_K
                } else {
                    JMP_JGE_K
                },
                vlo,
                z,
                Fail,
            ),
        ],
        "SCMP_CMP_LT" | "SCMP_CMP_LE" => vec![
            ld(hi_at),
            (JMP_JGT_K, vhi, Fail, z),
            (JMP_JEQ_K, vhi, z, Off(2)),
            ld(lo_at),
            (
                if a.op == "SCMP_CMP_LT" {
                    JMP_JGE_K
                } else {
                    JMP_JGT_K
                },
                vlo,
                Fail,
                z,
            ),
        ],
        "SCMP_CMP_MASKED_EQ" => vec![
            ld(hi_at),
            (ALU_AND_K, vhi, z, z),
            (JMP_JEQ_K, thi, z, Fail),
            ld(lo_at),
            (ALU_AND_K, vlo, z, z),
            (JMP_JEQ_K, tlo, z, Fail),
        ],
        other => return Err(format!("{field}.op: unknown operator {other:?}")),
    })
}

/// One rule with conditions: the conditions, then the return; a failing
/// condition goes to the instruction after the return.
fn conditional(args: &[(Arg, String)], ret: u32) -> Result<Vec<libc::sock_filter>, String> {
    let mut raw = Vec::new();
    for (a, field) in args {
        raw.extend(condition(a, field)?);
    }
    let len = raw.len() + 1;
    let mut out = Vec::with_capacity(len);
    for (i, (code, k, jt, jf)) in raw.into_iter().enumerate() {
        let off = |j: J| -> Result<u8, String> {
            match j {
                J::Off(o) => Ok(o),
                J::Fail => u8::try_from(len - (i + 1))
                    .map_err(|_| format!("{}: too many conditions in one rule", args[0].1)),
            }
        };
        out.push(jump(code, k, off(jt)?, off(jf)?));
    }
    out.push(stmt(RET_K, ret));
    Ok(out)
}

impl Program {
    /// Compile the JSON of a `linux.seccomp` object. An error names the
    /// field (`linux.seccomp.syscalls[3].action: ...`).
    pub fn compile(json: &str) -> Result<Program, String> {
        let p: Profile = serde_json::from_str(json).map_err(|e| format!("linux.seccomp: {e}"))?;
        if !p.listener_path.is_empty() {
            return Err(format!(
                "linux.seccomp.listenerPath: {}: a seccomp listener is not supported by zones-oci",
                p.listener_path
            ));
        }
        let default = action(
            &p.default_action,
            p.default_errno_ret,
            "linux.seccomp.defaultAction",
        )?;
        for (i, a) in p.architectures.iter().enumerate() {
            if !ARCHES.contains(&a.as_str()) {
                return Err(format!(
                    "linux.seccomp.architectures[{i}]: unknown architecture {a:?}"
                ));
            }
        }
        let mut flags = 0;
        for (i, f) in p.flags.iter().enumerate() {
            flags |= match f.as_str() {
                "SECCOMP_FILTER_FLAG_LOG" => FLAG_LOG,
                "SECCOMP_FILTER_FLAG_SPEC_ALLOW" => FLAG_SPEC_ALLOW,
                // One thread loads it; a listener's flag means nothing here.
                "SECCOMP_FILTER_FLAG_TSYNC" | "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" => 0,
                other => {
                    return Err(format!("linux.seccomp.flags[{i}]: unknown flag {other:?}"));
                }
            };
        }
        // number -> (conditional rules in order, first unconditional answer).
        type Rules = (Vec<(Vec<(Arg, String)>, u32)>, Option<u32>);
        let mut calls: BTreeMap<u32, Rules> = BTreeMap::new();
        for (i, s) in p.syscalls.iter().enumerate() {
            let field = format!("linux.seccomp.syscalls[{i}]");
            let ret = action(&s.action, s.errno_ret, &format!("{field}.action"))?;
            let args: Vec<(Arg, String)> = s
                .args
                .iter()
                .enumerate()
                .map(|(j, a)| (a.clone(), format!("{field}.args[{j}]")))
                .collect();
            // Check the conditions even when no name is known here.
            for (a, f) in &args {
                condition(a, f)?;
            }
            for n in &s.names {
                let Some(nr) = number(n) else {
                    continue; // unknown here: skipped, as libseccomp does
                };
                let (conds, plain) = calls.entry(nr).or_default();
                if args.is_empty() {
                    plain.get_or_insert(ret);
                } else {
                    conds.push((args.clone(), ret));
                }
            }
        }
        let mut prog = vec![
            stmt(LD_W_ABS, DATA_ARCH),
            jump(JMP_JEQ_K, super::seccomp::AUDIT_ARCH_X86_64, 1, 0),
            // Another ABI: the zone's filter answers (ENOSYS).
            stmt(RET_K, RET_ALLOW),
            stmt(LD_W_ABS, DATA_NR),
            jump(JMP_JGE_K, super::seccomp::X32_SYSCALL_BIT, 0, 1),
            stmt(RET_K, RET_ALLOW),
        ];
        for (nr, (conds, plain)) in calls {
            let mut body = Vec::new();
            for (args, ret) in &conds {
                body.extend(conditional(args, *ret)?);
            }
            body.push(stmt(RET_K, plain.unwrap_or(default)));
            match u8::try_from(body.len()) {
                Ok(n) => prog.push(jump(JMP_JEQ_K, nr, 0, n)),
                Err(_) => {
                    prog.push(jump(JMP_JEQ_K, nr, 1, 0));
                    prog.push(stmt(JMP_JA, body.len() as u32));
                }
            }
            prog.extend(body);
        }
        prog.push(stmt(RET_K, default));
        if prog.len() > 4096 {
            return Err(format!(
                "linux.seccomp: the profile compiles to {} instructions, more than the kernel's 4096",
                prog.len()
            ));
        }
        Ok(Program {
            prog: prog.into_boxed_slice(),
            flags,
        })
    }

    /// Read and compile the profile in `path`; errors name the file.
    pub fn from_file(path: &str) -> Result<Program, RuntimeError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| RuntimeError::new("seccomp", format!("{PARAM} {path}: {e}")))?;
        Program::compile(&text)
            .map_err(|m| RuntimeError::new("seccomp", format!("{PARAM} {path}: {m}")))
    }

    /// The program, for inspection.
    pub fn instructions(&self) -> &[libc::sock_filter] {
        &self.prog
    }

    /// The SECCOMP_FILTER_FLAG_* it is loaded with.
    pub fn flags(&self) -> u32 {
        self.flags
    }

    /// Load it on the calling thread, on top of what is loaded
    /// (module comment). Async-signal-safe: one system call. Like the
    /// zone's filter it sets no no_new_privs, so the caller must still
    /// hold CAP_SYS_ADMIN. Returns the errno on failure.
    pub fn apply(&self) -> Result<(), i32> {
        super::seccomp::load(&self.prog, self.flags)
    }
}

/// The profile zsched compiled before its root became the zone's
/// ([`preload`]): its path and program.
static PRELOADED: std::sync::OnceLock<(String, Program)> = std::sync::OnceLock::new();

/// Read and compile the zone's profile now, while the host's files are
/// in view: zsched calls it before it builds the zone's root and pivots
/// into it (a host path no longer resolves after that), and
/// [`for_params`] then answers from it for init. A missing or broken
/// file fails the zone's ready, naming it.
pub fn preload(params: &Params) -> Result<(), RuntimeError> {
    if let Some(path) = params.str(PARAM).filter(|p| !p.is_empty()) {
        let prog = Program::from_file(path)?;
        let _ = PRELOADED.set((path.to_string(), prog));
    }
    Ok(())
}

/// The container's profile the zone's parameters name, compiled; None
/// when `seccomp.profile` is not set. In zsched, the program [`preload`]
/// made; elsewhere (an entering process, on the host side) the file is
/// read and compiled again.
pub fn for_params(params: &Params) -> Result<Option<Program>, RuntimeError> {
    match params.str(PARAM) {
        None | Some("") => Ok(None),
        Some(path) => match PRELOADED.get() {
            Some((p, prog)) if p == path => Ok(Some(prog.clone())),
            _ => Program::from_file(path).map(Some),
        },
    }
}

#[cfg(test)]
#[path = "seccomp_oci_tests.rs"]
mod tests;

/// x86_64 system call numbers by name, sorted by name (asm/unistd_64.h of
/// Linux 6.1, and 451-469 up to Linux 6.18's file_setattr).
pub const NAMES: &[(&str, u32)] = &[
    ("_sysctl", 156),
    ("accept", 43),
    ("accept4", 288),
    ("access", 21),
    ("acct", 163),
    ("add_key", 248),
    ("adjtimex", 159),
    ("afs_syscall", 183),
    ("alarm", 37),
    ("arch_prctl", 158),
    ("bind", 49),
    ("bpf", 321),
    ("brk", 12),
    ("cachestat", 451),
    ("capget", 125),
    ("capset", 126),
    ("chdir", 80),
    ("chmod", 90),
    ("chown", 92),
    ("chroot", 161),
    ("clock_adjtime", 305),
    ("clock_getres", 229),
    ("clock_gettime", 228),
    ("clock_nanosleep", 230),
    ("clock_settime", 227),
    ("clone", 56),
    ("clone3", 435),
    ("close", 3),
    ("close_range", 436),
    ("connect", 42),
    ("copy_file_range", 326),
    ("creat", 85),
    ("create_module", 174),
    ("delete_module", 176),
    ("dup", 32),
    ("dup2", 33),
    ("dup3", 292),
    ("epoll_create", 213),
    ("epoll_create1", 291),
    ("epoll_ctl", 233),
    ("epoll_ctl_old", 214),
    ("epoll_pwait", 281),
    ("epoll_pwait2", 441),
    ("epoll_wait", 232),
    ("epoll_wait_old", 215),
    ("eventfd", 284),
    ("eventfd2", 290),
    ("execve", 59),
    ("execveat", 322),
    ("exit", 60),
    ("exit_group", 231),
    ("faccessat", 269),
    ("faccessat2", 439),
    ("fadvise64", 221),
    ("fallocate", 285),
    ("fanotify_init", 300),
    ("fanotify_mark", 301),
    ("fchdir", 81),
    ("fchmod", 91),
    ("fchmodat", 268),
    ("fchmodat2", 452),
    ("fchown", 93),
    ("fchownat", 260),
    ("fcntl", 72),
    ("fdatasync", 75),
    ("fgetxattr", 193),
    ("file_getattr", 468),
    ("file_setattr", 469),
    ("finit_module", 313),
    ("flistxattr", 196),
    ("flock", 73),
    ("fork", 57),
    ("fremovexattr", 199),
    ("fsconfig", 431),
    ("fsetxattr", 190),
    ("fsmount", 432),
    ("fsopen", 430),
    ("fspick", 433),
    ("fstat", 5),
    ("fstatfs", 138),
    ("fsync", 74),
    ("ftruncate", 77),
    ("futex", 202),
    ("futex_requeue", 456),
    ("futex_wait", 455),
    ("futex_waitv", 449),
    ("futex_wake", 454),
    ("futimesat", 261),
    ("get_kernel_syms", 177),
    ("get_mempolicy", 239),
    ("get_robust_list", 274),
    ("get_thread_area", 211),
    ("getcpu", 309),
    ("getcwd", 79),
    ("getdents", 78),
    ("getdents64", 217),
    ("getegid", 108),
    ("geteuid", 107),
    ("getgid", 104),
    ("getgroups", 115),
    ("getitimer", 36),
    ("getpeername", 52),
    ("getpgid", 121),
    ("getpgrp", 111),
    ("getpid", 39),
    ("getpmsg", 181),
    ("getppid", 110),
    ("getpriority", 140),
    ("getrandom", 318),
    ("getresgid", 120),
    ("getresuid", 118),
    ("getrlimit", 97),
    ("getrusage", 98),
    ("getsid", 124),
    ("getsockname", 51),
    ("getsockopt", 55),
    ("gettid", 186),
    ("gettimeofday", 96),
    ("getuid", 102),
    ("getxattr", 191),
    ("getxattrat", 464),
    ("init_module", 175),
    ("inotify_add_watch", 254),
    ("inotify_init", 253),
    ("inotify_init1", 294),
    ("inotify_rm_watch", 255),
    ("io_cancel", 210),
    ("io_destroy", 207),
    ("io_getevents", 208),
    ("io_pgetevents", 333),
    ("io_setup", 206),
    ("io_submit", 209),
    ("io_uring_enter", 426),
    ("io_uring_register", 427),
    ("io_uring_setup", 425),
    ("ioctl", 16),
    ("ioperm", 173),
    ("iopl", 172),
    ("ioprio_get", 252),
    ("ioprio_set", 251),
    ("kcmp", 312),
    ("kexec_file_load", 320),
    ("kexec_load", 246),
    ("keyctl", 250),
    ("kill", 62),
    ("landlock_add_rule", 445),
    ("landlock_create_ruleset", 444),
    ("landlock_restrict_self", 446),
    ("lchown", 94),
    ("lgetxattr", 192),
    ("link", 86),
    ("linkat", 265),
    ("listen", 50),
    ("listmount", 458),
    ("listxattr", 194),
    ("listxattrat", 465),
    ("llistxattr", 195),
    ("lookup_dcookie", 212),
    ("lremovexattr", 198),
    ("lseek", 8),
    ("lsetxattr", 189),
    ("lsm_get_self_attr", 459),
    ("lsm_list_modules", 461),
    ("lsm_set_self_attr", 460),
    ("lstat", 6),
    ("madvise", 28),
    ("map_shadow_stack", 453),
    ("mbind", 237),
    ("membarrier", 324),
    ("memfd_create", 319),
    ("memfd_secret", 447),
    ("migrate_pages", 256),
    ("mincore", 27),
    ("mkdir", 83),
    ("mkdirat", 258),
    ("mknod", 133),
    ("mknodat", 259),
    ("mlock", 149),
    ("mlock2", 325),
    ("mlockall", 151),
    ("mmap", 9),
    ("modify_ldt", 154),
    ("mount", 165),
    ("mount_setattr", 442),
    ("move_mount", 429),
    ("move_pages", 279),
    ("mprotect", 10),
    ("mq_getsetattr", 245),
    ("mq_notify", 244),
    ("mq_open", 240),
    ("mq_timedreceive", 243),
    ("mq_timedsend", 242),
    ("mq_unlink", 241),
    ("mremap", 25),
    ("mseal", 462),
    ("msgctl", 71),
    ("msgget", 68),
    ("msgrcv", 70),
    ("msgsnd", 69),
    ("msync", 26),
    ("munlock", 150),
    ("munlockall", 152),
    ("munmap", 11),
    ("name_to_handle_at", 303),
    ("nanosleep", 35),
    ("newfstatat", 262),
    ("nfsservctl", 180),
    ("open", 2),
    ("open_by_handle_at", 304),
    ("open_tree", 428),
    ("open_tree_attr", 467),
    ("openat", 257),
    ("openat2", 437),
    ("pause", 34),
    ("perf_event_open", 298),
    ("personality", 135),
    ("pidfd_getfd", 438),
    ("pidfd_open", 434),
    ("pidfd_send_signal", 424),
    ("pipe", 22),
    ("pipe2", 293),
    ("pivot_root", 155),
    ("pkey_alloc", 330),
    ("pkey_free", 331),
    ("pkey_mprotect", 329),
    ("poll", 7),
    ("ppoll", 271),
    ("prctl", 157),
    ("pread64", 17),
    ("preadv", 295),
    ("preadv2", 327),
    ("prlimit64", 302),
    ("process_madvise", 440),
    ("process_mrelease", 448),
    ("process_vm_readv", 310),
    ("process_vm_writev", 311),
    ("pselect6", 270),
    ("ptrace", 101),
    ("putpmsg", 182),
    ("pwrite64", 18),
    ("pwritev", 296),
    ("pwritev2", 328),
    ("query_module", 178),
    ("quotactl", 179),
    ("quotactl_fd", 443),
    ("read", 0),
    ("readahead", 187),
    ("readlink", 89),
    ("readlinkat", 267),
    ("readv", 19),
    ("reboot", 169),
    ("recvfrom", 45),
    ("recvmmsg", 299),
    ("recvmsg", 47),
    ("remap_file_pages", 216),
    ("removexattr", 197),
    ("removexattrat", 466),
    ("rename", 82),
    ("renameat", 264),
    ("renameat2", 316),
    ("request_key", 249),
    ("restart_syscall", 219),
    ("rmdir", 84),
    ("rseq", 334),
    ("rt_sigaction", 13),
    ("rt_sigpending", 127),
    ("rt_sigprocmask", 14),
    ("rt_sigqueueinfo", 129),
    ("rt_sigreturn", 15),
    ("rt_sigsuspend", 130),
    ("rt_sigtimedwait", 128),
    ("rt_tgsigqueueinfo", 297),
    ("sched_get_priority_max", 146),
    ("sched_get_priority_min", 147),
    ("sched_getaffinity", 204),
    ("sched_getattr", 315),
    ("sched_getparam", 143),
    ("sched_getscheduler", 145),
    ("sched_rr_get_interval", 148),
    ("sched_setaffinity", 203),
    ("sched_setattr", 314),
    ("sched_setparam", 142),
    ("sched_setscheduler", 144),
    ("sched_yield", 24),
    ("seccomp", 317),
    ("security", 185),
    ("select", 23),
    ("semctl", 66),
    ("semget", 64),
    ("semop", 65),
    ("semtimedop", 220),
    ("sendfile", 40),
    ("sendmmsg", 307),
    ("sendmsg", 46),
    ("sendto", 44),
    ("set_mempolicy", 238),
    ("set_mempolicy_home_node", 450),
    ("set_robust_list", 273),
    ("set_thread_area", 205),
    ("set_tid_address", 218),
    ("setdomainname", 171),
    ("setfsgid", 123),
    ("setfsuid", 122),
    ("setgid", 106),
    ("setgroups", 116),
    ("sethostname", 170),
    ("setitimer", 38),
    ("setns", 308),
    ("setpgid", 109),
    ("setpriority", 141),
    ("setregid", 114),
    ("setresgid", 119),
    ("setresuid", 117),
    ("setreuid", 113),
    ("setrlimit", 160),
    ("setsid", 112),
    ("setsockopt", 54),
    ("settimeofday", 164),
    ("setuid", 105),
    ("setxattr", 188),
    ("setxattrat", 463),
    ("shmat", 30),
    ("shmctl", 31),
    ("shmdt", 67),
    ("shmget", 29),
    ("shutdown", 48),
    ("sigaltstack", 131),
    ("signalfd", 282),
    ("signalfd4", 289),
    ("socket", 41),
    ("socketpair", 53),
    ("splice", 275),
    ("stat", 4),
    ("statfs", 137),
    ("statmount", 457),
    ("statx", 332),
    ("swapoff", 168),
    ("swapon", 167),
    ("symlink", 88),
    ("symlinkat", 266),
    ("sync", 162),
    ("sync_file_range", 277),
    ("syncfs", 306),
    ("sysfs", 139),
    ("sysinfo", 99),
    ("syslog", 103),
    ("tee", 276),
    ("tgkill", 234),
    ("time", 201),
    ("timer_create", 222),
    ("timer_delete", 226),
    ("timer_getoverrun", 225),
    ("timer_gettime", 224),
    ("timer_settime", 223),
    ("timerfd_create", 283),
    ("timerfd_gettime", 287),
    ("timerfd_settime", 286),
    ("times", 100),
    ("tkill", 200),
    ("truncate", 76),
    ("tuxcall", 184),
    ("umask", 95),
    ("umount2", 166),
    ("uname", 63),
    ("unlink", 87),
    ("unlinkat", 263),
    ("unshare", 272),
    ("uselib", 134),
    ("userfaultfd", 323),
    ("ustat", 136),
    ("utime", 132),
    ("utimensat", 280),
    ("utimes", 235),
    ("vfork", 58),
    ("vhangup", 153),
    ("vmsplice", 278),
    ("vserver", 236),
    ("wait4", 61),
    ("waitid", 247),
    ("write", 1),
    ("writev", 20),
];

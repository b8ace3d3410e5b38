//! Unit tests of the profile compiler: the programs are run by a small
//! classic BPF interpreter over made-up seccomp_data, and one is loaded
//! for real in a forked child.

use super::*;

const X86_64: u32 = super::super::seccomp::AUDIT_ARCH_X86_64;
const I386: u32 = 0x4000_0003;

/// Run `prog` over (arch, nr, args) as the kernel would.
fn run(prog: &[libc::sock_filter], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
    let mut data = [0u8; 64];
    data[0..4].copy_from_slice(&nr.to_le_bytes());
    data[4..8].copy_from_slice(&arch.to_le_bytes());
    for (i, a) in args.iter().enumerate() {
        data[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_le_bytes());
    }
    let (mut pc, mut acc) = (0usize, 0u32);
    loop {
        let i = prog[pc];
        pc += 1;
        match i.code {
            LD_W_ABS => {
                let k = i.k as usize;
                acc = u32::from_le_bytes(data[k..k + 4].try_into().unwrap());
            }
            ALU_AND_K => acc &= i.k,
            JMP_JA => pc += i.k as usize,
            JMP_JEQ_K | JMP_JGT_K | JMP_JGE_K => {
                let t = match i.code {
                    JMP_JEQ_K => acc == i.k,
                    JMP_JGT_K => acc > i.k,
                    _ => acc >= i.k,
                };
                pc += usize::from(if t { i.jt } else { i.jf });
            }
            RET_K => return i.k,
            other => panic!("opcode {other:#x}"),
        }
    }
}

fn nr(name: &str) -> u32 {
    number(name).unwrap()
}

fn compile(json: &str) -> Program {
    Program::compile(json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

fn call(p: &Program, name: &str, args: [u64; 6]) -> u32 {
    run(p.instructions(), X86_64, nr(name), args)
}

#[test]
fn the_name_table_is_sorted_and_knows_old_and_new_calls() {
    assert!(NAMES.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(number("read"), Some(0));
    assert_eq!(number("mkdir"), Some(libc::SYS_mkdir as u32));
    assert_eq!(number("keyctl"), Some(libc::SYS_keyctl as u32));
    assert_eq!(number("clone3"), Some(435));
    assert_eq!(number("file_setattr"), Some(469));
    assert_eq!(number("no_such_call"), None);
}

#[test]
fn each_action_gives_its_return_value() {
    for (act, errno, want) in [
        ("SCMP_ACT_ALLOW", "", RET_ALLOW),
        ("SCMP_ACT_ERRNO", "", RET_ERRNO | libc::EPERM as u32),
        ("SCMP_ACT_ERRNO", r#","errnoRet":38"#, RET_ERRNO | 38),
        ("SCMP_ACT_KILL", "", RET_KILL_THREAD),
        ("SCMP_ACT_KILL_THREAD", "", RET_KILL_THREAD),
        ("SCMP_ACT_KILL_PROCESS", "", RET_KILL_PROCESS),
        ("SCMP_ACT_TRAP", "", RET_TRAP),
        ("SCMP_ACT_LOG", "", RET_LOG),
        ("SCMP_ACT_TRACE", r#","errnoRet":7"#, RET_TRACE | 7),
    ] {
        let p = compile(&format!(
            r#"{{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{{"names":["mkdir"],"action":"{act}"{errno}}}]}}"#
        ));
        assert_eq!(call(&p, "mkdir", [0; 6]), want, "{act}{errno}");
        assert_eq!(call(&p, "getpid", [0; 6]), RET_ALLOW, "{act}");
    }
}

#[test]
fn the_default_action_and_its_errno_answer_unlisted_calls() {
    let p = compile(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,
            "syscalls":[{"names":["getpid","read"],"action":"SCMP_ACT_ALLOW"}]}"#,
    );
    assert_eq!(call(&p, "getpid", [0; 6]), RET_ALLOW);
    assert_eq!(call(&p, "read", [0; 6]), RET_ALLOW);
    assert_eq!(call(&p, "mkdir", [0; 6]), RET_ERRNO | 38);
    let p = compile(r#"{"defaultAction":"SCMP_ACT_ERRNO"}"#);
    assert_eq!(call(&p, "mkdir", [0; 6]), RET_ERRNO | libc::EPERM as u32);
}

#[test]
fn unknown_names_are_skipped_and_the_rest_of_the_entry_applies() {
    let p = compile(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["no_such_call","mkdir","arm_fadvise64_64"],"action":"SCMP_ACT_ERRNO"}]}"#,
    );
    assert_eq!(call(&p, "mkdir", [0; 6]), RET_ERRNO | 1);
    assert_eq!(call(&p, "rmdir", [0; 6]), RET_ALLOW);
}

#[test]
fn other_architectures_and_x32_are_left_to_the_zone_filter() {
    let p = compile(
        r#"{"defaultAction":"SCMP_ACT_ERRNO",
            "architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"]}"#,
    );
    assert_eq!(run(p.instructions(), I386, 39, [0; 6]), RET_ALLOW);
    assert_eq!(
        run(p.instructions(), X86_64, 39 | 0x4000_0000, [0; 6]),
        RET_ALLOW
    );
    assert_eq!(run(p.instructions(), X86_64, 39, [0; 6]), RET_ERRNO | 1);
    let e =
        Program::compile(r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_VAX"]}"#)
            .unwrap_err();
    assert!(
        e.contains("linux.seccomp.architectures[0]") && e.contains("VAX"),
        "{e}"
    );
}

/// A profile that refuses `personality` (ERRNO 9) when arg 0 satisfies
/// `op` against `value` (and `valueTwo`).
fn with_op(op: &str, value: u64, two: u64) -> Program {
    compile(&format!(
        r#"{{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{{"names":["personality"],
            "action":"SCMP_ACT_ERRNO","errnoRet":9,
            "args":[{{"index":0,"value":{value},"valueTwo":{two},"op":"{op}"}}]}}]}}"#
    ))
}

#[test]
fn each_comparison_is_unsigned_over_64_bits() {
    let big = 0x1_0000_0005u64;
    let probes = [
        0u64,
        4,
        5,
        6,
        0x1_0000_0004,
        big,
        0x1_0000_0006,
        5 << 32,
        u64::MAX,
    ];
    type Op = fn(u64, u64) -> bool;
    let ops: [(&str, Op); 6] = [
        ("SCMP_CMP_EQ", |a, v| a == v),
        ("SCMP_CMP_NE", |a, v| a != v),
        ("SCMP_CMP_LT", |a, v| a < v),
        ("SCMP_CMP_LE", |a, v| a <= v),
        ("SCMP_CMP_GT", |a, v| a > v),
        ("SCMP_CMP_GE", |a, v| a >= v),
    ];
    for value in [5u64, big] {
        for (op, f) in ops {
            let p = with_op(op, value, 0);
            for a in probes {
                let want = if f(a, value) {
                    RET_ERRNO | 9
                } else {
                    RET_ALLOW
                };
                assert_eq!(
                    call(&p, "personality", [a, 0, 0, 0, 0, 0]),
                    want,
                    "{a:#x} {op} {value:#x}"
                );
            }
        }
    }
    // (arg & value) == valueTwo, on both words.
    let p = with_op("SCMP_CMP_MASKED_EQ", 0xff00_0000_00f0, 0x1200_0000_0030);
    for (a, hit) in [
        (0x1200_0000_0030u64, true),
        (0x12ff_ffff_ff3f, true),
        (0x1300_0000_0030, false),
        (0x1200_0000_0040, false),
        (0, false),
    ] {
        let want = if hit { RET_ERRNO | 9 } else { RET_ALLOW };
        assert_eq!(call(&p, "personality", [a, 0, 0, 0, 0, 0]), want, "{a:#x}");
    }
}

#[test]
fn all_args_of_a_rule_must_hold_and_the_index_picks_the_register() {
    let p = compile(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["socket"],
            "action":"SCMP_ACT_ERRNO","errnoRet":97,
            "args":[{"index":0,"value":40,"op":"SCMP_CMP_EQ"},
                    {"index":5,"value":3,"op":"SCMP_CMP_EQ"}]}]}"#,
    );
    assert_eq!(call(&p, "socket", [40, 0, 0, 0, 0, 3]), RET_ERRNO | 97);
    assert_eq!(call(&p, "socket", [40, 0, 0, 0, 0, 2]), RET_ALLOW);
    assert_eq!(call(&p, "socket", [2, 0, 0, 0, 0, 3]), RET_ALLOW);
}

#[test]
fn conditional_rules_come_first_then_the_plain_rule_then_the_default() {
    // Docker's shape: personality allowed for a few values, else default.
    let p = compile(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"syscalls":[
            {"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"}]},
            {"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]},
            {"names":["clone"],"action":"SCMP_ACT_ERRNO","errnoRet":13,"args":[{"index":0,"value":268435456,"valueTwo":268435456,"op":"SCMP_CMP_MASKED_EQ"}]},
            {"names":["clone"],"action":"SCMP_ACT_ALLOW"},
            {"names":["clone"],"action":"SCMP_ACT_KILL"}]}"#,
    );
    assert_eq!(call(&p, "personality", [0; 6]), RET_ALLOW);
    assert_eq!(call(&p, "personality", [8, 0, 0, 0, 0, 0]), RET_ALLOW);
    assert_eq!(call(&p, "personality", [9, 0, 0, 0, 0, 0]), RET_ERRNO | 1);
    assert_eq!(
        call(&p, "clone", [0x1000_0011, 0, 0, 0, 0, 0]),
        RET_ERRNO | 13
    );
    assert_eq!(call(&p, "clone", [0x11, 0, 0, 0, 0, 0]), RET_ALLOW);
}

#[test]
fn broken_profiles_are_refused_naming_the_field() {
    for (json, field) in [
        (r#"{"syscalls":[]}"#, "defaultAction"),
        (
            r#"{"defaultAction":"SCMP_ACT_NOPE"}"#,
            "linux.seccomp.defaultAction",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]}"#,
            "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/l.sock"}"#,
            "linux.seccomp.listenerPath",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW"},{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#,
            "linux.seccomp.syscalls[1].args[0].index",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_ABOUT"}]}]}"#,
            "linux.seccomp.syscalls[0].args[0].op",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":5000}"#,
            "linux.seccomp.defaultAction: errno 5000",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_NEW_LISTENER"]}"#,
            "linux.seccomp.flags[0]",
        ),
    ] {
        let e = Program::compile(json).unwrap_err();
        assert!(e.contains(field), "{e} should name {field}");
    }
}

#[test]
fn flags_are_passed_or_accepted() {
    let p = compile(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_LOG",
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW","SECCOMP_FILTER_FLAG_TSYNC"]}"#,
    );
    assert_eq!(p.flags(), FLAG_LOG | FLAG_SPEC_ALLOW);
}

#[test]
fn podmans_default_profile_compiles_and_answers_as_podman_means() {
    // The profile Podman passes (containers-common, installed with podman).
    let text = std::fs::read_to_string("/usr/share/containers/seccomp.json")
        .expect("/usr/share/containers/seccomp.json (containers-common)");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    // Podman resolves includes/excludes by capability and arch before it
    // writes config.json; unresolved, every entry applies, which is the
    // stricter-looking superset but compiles the same way.
    let p = compile(&v.to_string());
    assert!(p.instructions().len() < 4096);
    assert_eq!(call(&p, "getpid", [0; 6]), RET_ALLOW);
    assert_eq!(call(&p, "mkdir", [0; 6]), RET_ALLOW);
    assert_eq!(call(&p, "kexec_load", [0; 6]) & 0xffff_0000, RET_ERRNO);
}

#[test]
fn for_params_reads_the_named_file_and_refuses_a_missing_one() {
    let dir = std::env::temp_dir().join(format!("zones-seccomp-oci-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("p.json");
    std::fs::write(&file, r#"{"defaultAction":"SCMP_ACT_ALLOW"}"#).unwrap();
    let mut params = Params::new();
    assert!(for_params(&params).unwrap().is_none());
    params.insert(PARAM, crate::param::Value::Str(file.display().to_string()));
    assert!(for_params(&params).unwrap().is_some());
    std::fs::remove_file(&file).unwrap();
    let e = for_params(&params).unwrap_err();
    assert!(
        e.message.contains(&file.display().to_string()),
        "{}",
        e.message
    );
    std::fs::remove_dir(&dir).unwrap();
}

#[test]
fn a_loaded_profile_stacks_and_refuses_with_its_errno() {
    let p = compile(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":38},
            {"names":["getppid"],"action":"SCMP_ACT_ALLOW"}]}"#,
    );
    let zone = super::super::seccomp::Filter::for_params(&Params::new()).unwrap();
    let dir = std::env::temp_dir().join(format!("zones-seccomp-oci-mk-{}", std::process::id()));
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: fork in a test; the child only makes system calls and _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        let code = (|| {
            zone.apply().ok()?;
            p.apply().ok()?;
            // SAFETY: plain system calls on a C string we own.
            unsafe {
                if libc::mkdir(c.as_ptr(), 0o700) == 0 {
                    return Some(10);
                }
                if *libc::__errno_location() != libc::ENOSYS {
                    return Some(11);
                }
                // The zone's refusal (keyctl: ENOSYS) still holds under an
                // ALLOW default.
                if libc::syscall(libc::SYS_keyctl, 0, 0, 0, 0, 0) != -1 {
                    return Some(12);
                }
                if libc::syscall(libc::SYS_bpf, 0, 0, 0) != -1
                    || *libc::__errno_location() != libc::EPERM
                {
                    return Some(13);
                }
            }
            Some(0)
        })()
        .unwrap_or(20);
        // SAFETY: leave the forked child without running the test harness.
        unsafe { libc::_exit(code) };
    }
    let mut st = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut st, 0) };
    assert!(libc::WIFEXITED(st), "{st:#x}");
    assert_eq!(libc::WEXITSTATUS(st), 0, "child code (see the test)");
    assert!(!dir.exists());
}

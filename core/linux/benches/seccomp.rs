//! # What the zone's system call filter costs per call
//!
//! `cargo bench -p zones-linux --bench seccomp` (root: loading a filter without
//! no_new_privs needs CAP_SYS_ADMIN; a release build). In forked children
//! (a filter cannot be removed once loaded), the same loop of raw system
//! calls runs without and with the zone's default filter, in alternating
//! rounds of the same run; the median ns per call of each and their ratio
//! are printed for:
//!
//! - getpid: a call the filter decides by its number alone, which Linux's
//!   seccomp action cache (5.11+) answers without running the program;
//! - personality(0xffffffff): a call with an argument row, for which the
//!   program runs on every call;
//! - ioctl(-1, TIOCGWINSZ): the commonest call with an argument row.
//!
//! Each is also measured under a one-instruction filter (allow all) in
//! the same rounds: what any filter costs a call (the kernel's slower
//! system call entry once a process is filtered), the floor of the
//! zone's filter.
//!
//! Then what loading the filter costs a process, the part of a zone's
//! boot it adds (init's child loads it before its exec): the median of
//! fork + seccomp(2) + _exit against fork + _exit, alternating, and the
//! time [`Filter::for_params`] takes to compile it.
//!
//! Exits 1 when the filter cannot be loaded or a child fails.

use std::time::Instant;
use zones::param::Params;
use zones_linux::runtime::linux::seccomp::Filter;

const CALLS: u64 = 2_000_000;
const ROUNDS: usize = 7;

fn getpid() {
    // SAFETY: getpid takes no argument.
    unsafe { libc::syscall(libc::SYS_getpid) };
}

fn personality_query() {
    // SAFETY: personality(0xffffffff) only reads the persona.
    unsafe { libc::syscall(libc::SYS_personality, 0xffff_ffffu64) };
}

fn ioctl_winsize() {
    let mut ws = [0u16; 4];
    // SAFETY: TIOCGWINSZ on a bad descriptor fails with EBADF; the buffer
    // is ours and large enough.
    unsafe { libc::syscall(libc::SYS_ioctl, -1i64, libc::TIOCGWINSZ, ws.as_mut_ptr()) };
}

/// A filter as the kernel takes it (sock_fprog), so that a one-instruction
/// "allow" can be loaded beside the zone's.
fn load(prog: &[libc::sock_filter]) -> bool {
    let fprog = libc::sock_fprog {
        len: prog.len() as libc::c_ushort,
        filter: prog.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: the kernel copies `len` instructions from our slice.
    unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER as libc::c_ulong,
            0 as libc::c_ulong,
            &fprog as *const libc::sock_fprog,
        ) == 0
    }
}

/// ns per call of `f`, measured in a forked child with `filter` loaded.
fn measure(filter: Option<&[libc::sock_filter]>, f: fn()) -> f64 {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 fills the array.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: single-threaded benchmark; the child makes system calls,
    // reads the clock and writes 8 bytes, then _exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork");
    if pid == 0 {
        let mut ns = -1f64;
        if filter.is_none_or(load) {
            for _ in 0..CALLS / 10 {
                f(); // warm up
            }
            let t = Instant::now();
            for _ in 0..CALLS {
                f();
            }
            ns = t.elapsed().as_nanos() as f64 / CALLS as f64;
        }
        // SAFETY: our own buffer to our own pipe, then leave.
        unsafe {
            libc::write(fds[1], (&ns as *const f64).cast(), 8);
            libc::_exit(0);
        }
    }
    let mut ns = 0f64;
    // SAFETY: closing our write end, reading 8 bytes into `ns`, reaping.
    unsafe {
        libc::close(fds[1]);
        let n = libc::read(fds[0], (&mut ns as *mut f64).cast(), 8);
        libc::close(fds[0]);
        libc::waitpid(pid, std::ptr::null_mut(), 0);
        if n != 8 || ns < 0.0 {
            eprintln!("the measuring child failed (filter not loaded? run as root)");
            std::process::exit(1);
        }
    }
    ns
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// µs for fork, then in the child `filter` loaded (if any) and _exit,
/// then the reap.
fn fork_load(filter: Option<&Filter>) -> f64 {
    let t = Instant::now();
    // SAFETY: the child makes two system calls and _exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork");
    if pid == 0 {
        let ok = filter.is_none_or(|f| f.apply().is_ok());
        // SAFETY: leave at once.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let mut st = 0;
    // SAFETY: reaping our child.
    unsafe { libc::waitpid(pid, &mut st, 0) };
    if st != 0 {
        eprintln!("the loading child failed (run as root)");
        std::process::exit(1);
    }
    t.elapsed().as_nanos() as f64 / 1000.0
}

fn main() {
    let filter = Filter::for_params(&Params::new()).expect("compile the default filter");
    println!(
        "zone default filter: {} BPF instructions; {CALLS} calls x {ROUNDS} rounds",
        filter.len()
    );
    let allow = [libc::sock_filter {
        code: 0x06,
        jt: 0,
        jf: 0,
        k: libc::SECCOMP_RET_ALLOW,
    }];
    for (name, f) in [
        ("getpid", getpid as fn()),
        ("personality(0xffffffff)", personality_query as fn()),
        ("ioctl(-1, TIOCGWINSZ)", ioctl_winsize as fn()),
    ] {
        let (mut bare, mut floor, mut filtered) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            bare.push(measure(None, f));
            floor.push(measure(Some(&allow), f));
            filtered.push(measure(Some(filter.instructions()), f));
        }
        let (b, a, w) = (median(bare), median(floor), median(filtered));
        println!(
            "{name:<24} without {b:6.1} ns/call   allow-all filter {a:6.1} (ratio {:.3})   zone filter {w:6.1} ns/call   ratio {:.3}",
            a / b,
            w / b
        );
    }
    const LOADS: usize = 400;
    let (mut bare, mut loaded) = (Vec::new(), Vec::new());
    for _ in 0..LOADS {
        bare.push(fork_load(None));
        loaded.push(fork_load(Some(&filter)));
    }
    let (b, l) = (median(bare), median(loaded));
    println!(
        "load: fork+_exit {b:.1} µs, fork+seccomp+_exit {l:.1} µs: the filter adds {:.1} µs (median of {LOADS})",
        l - b
    );
    let mut compile = Vec::new();
    for _ in 0..LOADS {
        let t = Instant::now();
        let f = Filter::for_params(&Params::new()).expect("compile");
        compile.push(t.elapsed().as_nanos() as f64 / 1000.0);
        std::hint::black_box(f);
    }
    println!(
        "compile: Filter::for_params {:.1} µs (median of {LOADS})",
        median(compile)
    );
}

//! # What the zone's system call filter costs per call
//!
//! `cargo bench -p zones --bench seccomp` (root: loading a filter without
//! no_new_privs needs CAP_SYS_ADMIN; a release build). In forked children
//! (a filter cannot be removed once loaded), the same loop of raw system
//! calls runs without and with the zone's default filter, in alternating
//! rounds of the same run; the median ns per call of each and their ratio
//! are printed for:
//!
//! - getpid: a call the filter decides by its number alone, which Linux's
//!   seccomp action cache (5.11+) answers without running the program;
//! - personality(0xffffffff): a call with an argument row, for which the
//!   whole program runs on every call (the worst case of this profile).
//!
//! Exits 1 when the filter cannot be loaded or a child fails.

use std::time::Instant;
use zones::param::Params;
use zones::runtime::linux::seccomp::Filter;

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

/// ns per call of `f`, measured in a forked child with `filter` loaded.
fn measure(filter: Option<&Filter>, f: fn()) -> f64 {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 fills the array.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: single-threaded benchmark; the child makes system calls,
    // reads the clock and writes 8 bytes, then _exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork");
    if pid == 0 {
        let mut ns = -1f64;
        if filter.is_none_or(|f| f.apply().is_ok()) {
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

fn main() {
    let filter = Filter::for_params(&Params::new()).expect("compile the default filter");
    println!(
        "zone default filter: {} BPF instructions; {CALLS} calls x {ROUNDS} rounds",
        filter.len()
    );
    for (name, f) in [
        ("getpid", getpid as fn()),
        ("personality(0xffffffff)", personality_query as fn()),
    ] {
        let (mut bare, mut filtered) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            bare.push(measure(None, f));
            filtered.push(measure(Some(&filter), f));
        }
        let (b, w) = (median(bare), median(filtered));
        println!(
            "{name:<24} without {b:6.1} ns/call   with {w:6.1} ns/call   ratio {:.3}",
            w / b
        );
    }
}

//! Probes run inside a zone by the end-to-end tests. Each prints one line
//! and exits 0 when the probed action succeeded, 1 when it failed.
//!
//! * `raw-socket` — socket(AF_INET, SOCK_RAW, ICMP)
//! * `mount` — mount a tmpfs on /mnt
//! * `sethostname NAME`
//! * `see PATH` — does PATH exist (from here)?
//! * `dotdot PATH` — chdir("..") 64 times, then: does PATH exist?
//! * `chroot-escape PATH` — the classic escape with a held directory fd,
//!   then: does PATH exist?
//! * `forkbomb N` — fork up to N sleeping children; prints how many forks
//!   succeeded, exit 0 when all N did
//! * `hog MB` — allocate and touch MB MiB, printing every 16 MiB
//! * `spin SECONDS` — a busy loop
//! * `mlock MB` — mlock MB MiB, print `locked`, hold them until stdin ends
//! * `hold MB` — touch MB MiB of anonymous memory, print `held`, hold it
//!   until stdin ends
//! * `children N` — fork N children that wait, print `ready`, and end them
//!   all when stdin ends
use std::ffi::CString;

fn exists(p: &str) -> bool {
    let c = CString::new(p).unwrap();
    // SAFETY: libc::stat is plain data, for which all zeros is a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path and `st` a stat buffer, both alive across the call.
    unsafe { libc::lstat(c.as_ptr(), &mut st) == 0 }
}

fn report(ok: bool, what: &str) -> ! {
    let err = std::io::Error::last_os_error();
    if ok {
        println!("ok {what}");
        std::process::exit(0)
    }
    println!("failed {what}: {err}");
    std::process::exit(1)
}

/// Flush stdout, then read stdin until it ends.
fn wait_stdin() {
    use std::io::{Read, Write};
    let _ = std::io::stdout().flush();
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    match arg(0).as_str() {
        "raw-socket" => {
            // SAFETY: socket takes no pointers; the descriptor is only tested.
            let s = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP) };
            report(s >= 0, "raw socket")
        }
        "mount" => {
            let (src, dst, fs) = (
                CString::new("tmpfs").unwrap(),
                CString::new("/mnt").unwrap(),
                CString::new("tmpfs").unwrap(),
            );
            // SAFETY: three NUL-terminated strings alive across the call and a null data pointer, which mount allows.
            let r = unsafe {
                libc::mount(src.as_ptr(), dst.as_ptr(), fs.as_ptr(), 0, std::ptr::null())
            };
            report(r == 0, "mount")
        }
        "sethostname" => {
            let n = arg(1);
            // SAFETY: a pointer and length of the bytes of `n`, alive across the call.
            let r = unsafe { libc::sethostname(n.as_ptr() as *const libc::c_char, n.len()) };
            report(r == 0, "sethostname")
        }
        "see" => report(exists(&arg(1)), &arg(1)),
        "dotdot" => {
            for _ in 0..64 {
                let _ = std::env::set_current_dir("..");
            }
            let cwd = std::env::current_dir().unwrap_or_default();
            println!("cwd {}", cwd.display());
            let rel = arg(1).trim_start_matches('/').to_string();
            report(exists(&rel), &arg(1))
        }
        "chroot-escape" => {
            // SAFETY: each call gets NUL-terminated strings that outlive it or plain descriptors; the probe attempts the escape on purpose and inspects the result.
            unsafe {
                let slash = CString::new("/").unwrap();
                let fd = libc::open(slash.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
                let d = CString::new("/tmp/zprobe-jail").unwrap();
                libc::mkdir(d.as_ptr(), 0o755);
                if libc::chroot(d.as_ptr()) != 0 {
                    report(false, "chroot (escape not even tried)");
                }
                libc::fchdir(fd);
                let up = CString::new("..").unwrap();
                for _ in 0..64 {
                    libc::chdir(up.as_ptr());
                }
                let dot = CString::new(".").unwrap();
                libc::chroot(dot.as_ptr());
            }
            report(exists(&arg(1)), &arg(1))
        }
        "forkbomb" => {
            let n: usize = arg(1).parse().unwrap_or(100);
            let mut ok = 0;
            let mut kids = Vec::new();
            for _ in 0..n {
                // SAFETY: the probe is single-threaded, so the child may run on; it only calls async-signal-safe functions before _exit.
                let pid = unsafe { libc::fork() };
                if pid == 0 {
                    // SAFETY: in the forked child: async-signal-safe calls, then _exit.
                    unsafe {
                        libc::sleep(30);
                        libc::_exit(0)
                    }
                }
                if pid < 0 {
                    break;
                }
                ok += 1;
                kids.push(pid);
            }
            println!("forked {ok}");
            for k in kids {
                // SAFETY: signals and reaps a child this probe forked; no memory but a null status pointer, which waitpid allows.
                unsafe {
                    libc::kill(k, libc::SIGKILL);
                    libc::waitpid(k, std::ptr::null_mut(), 0);
                }
            }
            std::process::exit(if ok == n { 0 } else { 1 })
        }
        "hog" => {
            let mb: usize = arg(1).parse().unwrap_or(256);
            let mut v: Vec<Vec<u8>> = Vec::new();
            for i in 0..mb {
                v.push(vec![1u8; 1 << 20]);
                if i % 16 == 0 {
                    println!("touched {i}");
                }
            }
            println!("touched all {mb}");
            std::process::exit(0)
        }
        "spin" => {
            let secs: u64 = arg(1).parse().unwrap_or(3);
            let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
            let mut x = 0u64;
            while std::time::Instant::now() < end {
                x = x.wrapping_add(1);
            }
            println!("spun {x}");
            std::process::exit(0)
        }
        "mlock" | "hold" => {
            let len = arg(1).parse::<usize>().unwrap_or(64) << 20;
            // SAFETY: an anonymous private mapping at an address of the kernel's choice; nothing existing is mapped over.
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if p == libc::MAP_FAILED {
                report(false, "mmap");
            }
            let locking = arg(0) == "mlock";
            // SAFETY: `p` and `len` are the mapping made above.
            if locking && unsafe { libc::mlock(p, len) } != 0 {
                report(false, "mlock");
            }
            for off in (0..len).step_by(4096) {
                // SAFETY: `off` is below `len`, inside the writable mapping made above.
                unsafe { *(p as *mut u8).add(off) = 1 };
            }
            println!("{}", if locking { "locked" } else { "held" });
            wait_stdin();
            std::process::exit(0)
        }
        "children" => {
            let n: usize = arg(1).parse().unwrap_or(5);
            let mut kids = Vec::new();
            for _ in 0..n {
                // SAFETY: the probe is single-threaded, so the child may run on; it only calls async-signal-safe functions before _exit.
                let pid = unsafe { libc::fork() };
                if pid == 0 {
                    // SAFETY: in the forked child: async-signal-safe calls, then _exit.
                    unsafe {
                        libc::pause();
                        libc::_exit(0)
                    }
                }
                if pid < 0 {
                    report(false, "fork");
                }
                kids.push(pid);
            }
            println!("ready");
            wait_stdin();
            for k in kids {
                // SAFETY: signals and reaps a child this probe forked; no memory but a null status pointer, which waitpid allows.
                unsafe {
                    libc::kill(k, libc::SIGKILL);
                    libc::waitpid(k, std::ptr::null_mut(), 0);
                }
            }
            std::process::exit(0)
        }
        other => {
            eprintln!("zprobe: unknown probe {other:?}");
            std::process::exit(2)
        }
    }
}

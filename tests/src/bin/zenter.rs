//! `zenter HANDLE.json [--user U] [--pty] -- COMMAND...`: run a command in
//! a zone and exit with its status (125 when entering failed).
use zones_linux::runtime::Handle;
use zones_linux::runtime::linux::enter::{EnterOpts, run};

fn main() {
    let mut args = std::env::args().skip(1);
    let handle_path = args.next().expect("handle file");
    let handle: Handle =
        serde_json::from_str(&std::fs::read_to_string(&handle_path).expect("read handle"))
            .expect("parse handle");
    let mut opts = EnterOpts::default();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--user" => opts.user = args.next(),
            "--pty" => opts.pty = true,
            "--" => break,
            other => panic!("unknown option {other}"),
        }
    }
    opts.command = args.collect();
    match run(&handle, &opts) {
        Ok(status) => std::process::exit(status),
        Err(e) => {
            eprintln!("zenter: {e}");
            std::process::exit(125)
        }
    }
}

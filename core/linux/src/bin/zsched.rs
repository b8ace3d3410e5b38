//! zsched: `zsched launch` (run by the runtime to make a zone) and
//! `zsched supervise` (the zone's pid 1). See zones_linux::runtime::linux.

fn main() {
    zones_linux::runtime::linux::zsched_main()
}

//! The zone supervisor (the same program as core's `zsched`).
fn main() {
    zones_linux::runtime::linux::zsched_main()
}

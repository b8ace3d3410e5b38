//! The zone supervisor (the same program as core's `zsched`).
fn main() {
    zones::runtime::linux::zsched_main()
}

//! zones-oci(8): an OCI runtime over zones, with runc's command line, for
//! containerd's runc shim and Podman (docs/oci.md). Everything is in
//! zones_tools::tool::oci.

fn main() {
    zones_tools::tool::oci::cli::main()
}

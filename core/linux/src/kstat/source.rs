//! # The engine's source of counters on Linux
//!
//! [`LinuxSource`] is what [`LinuxRuntime`](crate::runtime::linux::LinuxRuntime)
//! hands the engine's tick ([`zones::kstat::Source`]): the [`Sampler`]
//! for the zones' counters, /proc/ZSCHED/net/dev for a zone's links
//! ([`read_links`], parsed by [`zones::kstat::link::parse_net_dev`]), and
//! sysinfo for the host's totals in the headers.

use super::avenrun::LoadAvg;
use super::link::LinkStat;
use super::sampler::Sampler;
use super::{Sample, Source, ZoneInput};
use crate::snapshot::Host;
use crate::zone::ZoneId;

/// The sampler and the host reader (module comment).
pub struct LinuxSource {
    sampler: Sampler,
    sys: Option<sysinfo::System>,
}

impl LinuxSource {
    pub fn new() -> LinuxSource {
        LinuxSource {
            sampler: Sampler::new(),
            sys: sysinfo::System::new().ok(),
        }
    }
}

impl Default for LinuxSource {
    fn default() -> Self {
        LinuxSource::new()
    }
}

impl Source for LinuxSource {
    fn resume(&mut self, id: ZoneId, state: LoadAvg) {
        self.sampler.resume(id, state);
    }

    fn sample(&mut self, zones: &[ZoneInput]) -> Sample {
        self.sampler.sample(zones)
    }

    fn loadavg(&self, id: ZoneId) -> Option<&LoadAvg> {
        self.sampler.loadavg(id)
    }

    fn links(&self, net_pid: u32) -> Vec<LinkStat> {
        read_links(net_pid)
    }

    fn host(&mut self) -> Host {
        host(self.sys.as_mut())
    }
}

/// The links of the network namespace of process `pid` (zsched); none
/// for 0 (a zone with no namespace of its own) or a process that is gone.
pub fn read_links(pid: u32) -> Vec<LinkStat> {
    if pid == 0 {
        return Vec::new();
    }
    std::fs::read_to_string(format!("/proc/{pid}/net/dev"))
        .map(|t| super::link::parse_net_dev(&t))
        .unwrap_or_default()
}

/// Host totals for headers, through sysinfo.
pub(crate) fn host(sys: Option<&mut sysinfo::System>) -> Host {
    let mem = sys.map(|sys| {
        sys.refresh_memory();
        (
            sys.total_memory(),
            sys.used_memory(),
            sys.total_swap(),
            sys.used_swap(),
        )
    });
    let (mem_total, mem_used, swap_total, swap_used) = mem.unwrap_or_default();
    let loadavg = sysinfo::System::load_average()
        .map(|la| [la.one, la.five, la.fifteen])
        .unwrap_or_default();
    Host {
        hostname: sysinfo::System::host_name().unwrap_or_default(),
        uptime_secs: sysinfo::System::uptime().unwrap_or(0),
        loadavg,
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
        mem_total,
        mem_used,
        swap_total,
        swap_used,
    }
}

/// This process's soft RLIMIT_NOFILE (1024 when it cannot be read).
pub fn nofile_limit() -> u64 {
    nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map_or(1024, |(soft, _)| soft)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_namespace_reads_as_the_host_sees_it() {
        let me = std::process::id();
        let own = std::fs::read_to_string("/proc/self/net/dev").unwrap();
        assert_eq!(read_links(me), super::super::link::parse_net_dev(&own));
        assert!(read_links(0).is_empty());
    }
}

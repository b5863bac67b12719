//! The host's capture interfaces and its own addresses (live mode).
//!
//! Listing needs no privileges (`pcap_findalldevs`). The link type comes from
//! `/sys/class/net/NAME/type` (the kernel's ARPHRD number), so that it is known before a capture
//! is opened; the capture itself uses the link type libpcap reports.
//!
//! Live mode's [`LocalNets`] are the host's *own* addresses as host prefixes (/32, /128), not
//! the subnets they sit in: an upload to another machine on the LAN is an upload.

use crate::direction::LocalNets;
use ipnet::IpNet;
use std::net::IpAddr;
use std::path::Path;

/// One address of an interface, with its real netmask.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfaceAddr {
    pub addr: IpAddr,
    /// The network the address sits in (address + netmask), when libpcap gave a netmask.
    pub net: Option<IpNet>,
}

/// A network interface as seen by libpcap (and sysfs on Linux).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    /// Kernel interface index (Linux sysfs), to notice an interface deleted and re-created
    /// under the same name.
    pub index: Option<u32>,
    pub up: bool,
    pub running: bool,
    pub loopback: bool,
    /// Link type name guessed from the kernel's ARPHRD type ("ethernet", "loopback", "raw", …).
    pub link: Option<&'static str>,
    /// The interface's own hardware address, when it has an Ethernet-style one (sysfs).
    pub mac: Option<[u8; 6]>,
    pub addresses: Vec<IfaceAddr>,
}

impl Interface {
    /// The interface's own IP addresses.
    pub fn ips(&self) -> Vec<IpAddr> {
        self.addresses.iter().map(|a| a.addr).collect()
    }
}

/// Every interface libpcap knows that is a real network device (pseudo devices such as `any`,
/// `nflog` or `usbmon0` are left out on Linux).
pub fn list() -> Result<Vec<Interface>, String> {
    crate::os::capture_library()?;
    let devices = pcap::Device::list().map_err(|e| e.to_string())?;
    let sys = Path::new("/sys/class/net");
    let have_sys = sys.is_dir();
    let mut out = Vec::new();
    for d in devices {
        if have_sys && !sys.join(&d.name).exists() {
            continue;
        }
        let read = |f: &str| std::fs::read_to_string(sys.join(&d.name).join(f)).ok().map(|s| s.trim().to_string());
        let index = read("ifindex").and_then(|s| s.parse().ok());
        let link = read("type").and_then(|s| s.parse::<u32>().ok()).map(arphrd_name);
        let mac = read("address").and_then(|s| parse_mac(&s));
        let addresses = d
            .addresses
            .iter()
            .filter(|a| !a.addr.is_unspecified())
            .map(|a| IfaceAddr { addr: a.addr, net: a.netmask.and_then(|m| IpNet::with_netmask(a.addr, m).ok()) })
            .collect();
        out.push(Interface {
            name: d.name.clone(),
            index,
            up: d.flags.is_up(),
            running: d.flags.is_running(),
            loopback: d.flags.is_loopback(),
            link,
            mac,
            addresses,
        });
    }
    Ok(out)
}

/// `aa:bb:cc:dd:ee:ff` as six bytes; `None` for other lengths and for all zeros (devices
/// without a hardware address show `00:00:00:00:00:00`).
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = s.trim().split(':');
    for b in mac.iter_mut() {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    (parts.next().is_none() && mac != [0; 6]).then_some(mac)
}

fn arphrd_name(t: u32) -> &'static str {
    match t {
        1 => "ethernet",
        772 => "loopback",
        512 => "ppp",
        65534 => "raw",
        768 | 769 | 776 | 823 => "tunnel",
        801 | 803 => "wireless",
        _ => "other",
    }
}

/// Which interfaces to capture on: the named ones (when up), else every up interface except
/// loopback (unless `include_loopback`).
pub fn select<'a>(all: &'a [Interface], names: &[String], include_loopback: bool) -> Vec<&'a Interface> {
    all.iter()
        .filter(|i| i.up)
        .filter(|i| if names.is_empty() { include_loopback || !i.loopback } else { names.contains(&i.name) })
        .collect()
}

/// The host's own addresses as host prefixes (/32, /128). Loopback addresses only when
/// `include_loopback`.
pub fn own_nets(all: &[Interface], include_loopback: bool) -> LocalNets {
    let mut nets: Vec<IpNet> = all
        .iter()
        .filter(|i| include_loopback || !i.loopback)
        .flat_map(|i| i.addresses.iter())
        .filter(|a| include_loopback || !a.addr.is_loopback())
        .map(|a| IpNet::from(a.addr))
        .collect();
    nets.sort();
    nets.dedup();
    LocalNets::new(nets)
}

/// The BPF filter for one interface: everything its own addresses send (any IP protocol), plus
/// DNS answers (TCP or UDP from source port 53) coming in.
pub fn bpf_filter(own: &[IpAddr]) -> String {
    let mut srcs: Vec<String> = own.iter().map(|a| format!("src host {a}")).collect();
    srcs.sort();
    srcs.dedup();
    srcs.push("((tcp or udp) and src port 53)".into());
    srcs.join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_names_every_own_address_and_dns() {
        let f = bpf_filter(&["10.0.0.1".parse().unwrap(), "fd00::1".parse().unwrap()]);
        assert_eq!(f, "src host 10.0.0.1 or src host fd00::1 or ((tcp or udp) and src port 53)");
        assert_eq!(bpf_filter(&[]), "((tcp or udp) and src port 53)");
        // Every protocol the own addresses send passes (ICMP, GRE, ESP, …), compiled by libpcap.
        let cap = pcap::Capture::dead(pcap::Linktype::ETHERNET).unwrap();
        assert!(cap.compile(&f, true).is_ok(), "{f}");
    }

    #[test]
    fn hardware_addresses_are_read_from_sysfs_text() {
        assert_eq!(parse_mac("4e:34:4d:a4:7c:89\n"), Some([0x4e, 0x34, 0x4d, 0xa4, 0x7c, 0x89]));
        assert_eq!(parse_mac("00:00:00:00:00:00"), None);
        assert_eq!(parse_mac("4e:34:4d:a4:7c"), None);
        assert_eq!(parse_mac("4e:34:4d:a4:7c:89:00"), None);
        assert_eq!(parse_mac("zz:34:4d:a4:7c:89"), None);
        assert_eq!(parse_mac(""), None);
    }

    #[test]
    fn own_nets_are_host_prefixes() {
        let i = Interface {
            name: "eth0".into(),
            index: Some(2),
            up: true,
            running: true,
            loopback: false,
            link: Some("ethernet"),
            mac: None,
            addresses: vec![IfaceAddr { addr: "192.168.1.5".parse().unwrap(), net: "192.168.1.0/24".parse().ok() }],
        };
        let nets = own_nets(&[i], false);
        assert!(nets.is_local("192.168.1.5".parse().unwrap()));
        assert!(!nets.is_local("192.168.1.6".parse().unwrap()));
    }

    #[test]
    fn listing_works_without_privileges() {
        let all = list().unwrap();
        assert!(all.iter().all(|i| !i.name.is_empty()));
    }
}

//! Linux `/proc` readers: which process holds which socket inode, the ICMP and raw socket tables
//! (`/proc/net/{icmp,icmp6,raw,raw6}`, which `netstat2` does not read), and a process's name,
//! executable and start time. Each is a handful of small reads, no full `sysinfo` refresh.

use crate::process::ProcessInfo;
use ahash::{AHashMap, AHashSet};
use std::fs;

/// Every process id listed in `/proc`.
pub fn pids() -> Vec<u32> {
    let Ok(dir) = fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok()).collect()
}

/// Adds to `owners` the socket inodes held by each of `pids` (inode → lowest pid holding it).
pub fn socket_inodes(pids: impl IntoIterator<Item = u32>, owners: &mut AHashMap<u64, u32>) {
    let mut path = String::with_capacity(32);
    for pid in pids {
        path.clear();
        path.push_str("/proc/");
        path.push_str(&pid.to_string());
        path.push_str("/fd");
        let Ok(fds) = fs::read_dir(&path) else { continue };
        for fd in fds.flatten() {
            let Ok(link) = fs::read_link(fd.path()) else { continue };
            let Some(inode) = socket_inode(link.as_os_str().to_str().unwrap_or("")) else { continue };
            owners.entry(inode).and_modify(|p| *p = (*p).min(pid)).or_insert(pid);
        }
    }
}

/// `socket:[12345]` → 12345.
fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
}

/// Start time of `pid` in clock ticks since boot (field 22 of `/proc/<pid>/stat`): with the pid,
/// it identifies one process even when pids are reused.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_time(&stat)
}

fn parse_start_time(stat: &str) -> Option<u64> {
    // The name (field 2) is in parentheses and may itself hold spaces and ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    // After the name: field 3 (state) is the first; the start time is field 22.
    rest.split_ascii_whitespace().nth(22 - 3)?.parse().ok()
}

/// The program `pid` runs (name from `comm`, executable path, whether it is installed), with its
/// start time. `None` when the process is gone. The executable is `None` when it cannot be read
/// (another user's process without privileges, kernel threads).
pub fn read(pid: u32) -> Option<(u64, ProcessInfo)> {
    let start = start_time(pid)?;
    let comm = fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    let exe = fs::read_link(format!("/proc/{pid}/exe")).ok().map(|p| {
        let s = p.to_string_lossy().into_owned();
        match s.strip_suffix(" (deleted)") {
            Some(t) => t.to_string(),
            None => s,
        }
    });
    // Re-check: the pid must still be the same process after the reads.
    let info = ProcessInfo::observed(pid, comm.trim_end_matches('\n').to_string(), exe);
    (start_time(pid)? == start).then_some((start, info))
}

/// The sockets listed in a `/proc/net/{icmp,icmp6,raw,raw6}` table (same layout as
/// `/proc/net/tcp`): local address, local "port" and inode. For ICMP sockets (`ping` without
/// privileges) the port is the echo identifier; for raw sockets it is the IP protocol number.
/// Unreadable lines are skipped; a missing file gives nothing.
pub fn ip_sockets(path: &str) -> Vec<(std::net::IpAddr, u16, u64)> {
    fs::read_to_string(path).map(|t| parse_ip_sockets(&t)).unwrap_or_default()
}

fn parse_ip_sockets(text: &str) -> Vec<(std::net::IpAddr, u16, u64)> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut f = line.split_ascii_whitespace();
            let local = f.nth(1)?;
            let inode = f.nth(7)?.parse().ok()?;
            let (addr, port) = local.split_once(':')?;
            Some((hex_addr(addr)?, u16::from_str_radix(port, 16).ok()?, inode))
        })
        .collect()
}

/// An address as the kernel prints it in `/proc/net/*`: 32-bit words in host byte order.
fn hex_addr(h: &str) -> Option<std::net::IpAddr> {
    let word =
        |i: usize| -> Option<[u8; 4]> { Some(u32::from_str_radix(h.get(i * 8..i * 8 + 8)?, 16).ok()?.to_ne_bytes()) };
    match h.len() {
        8 => Some(std::net::Ipv4Addr::from(word(0)?).into()),
        32 => {
            let mut b = [0u8; 16];
            for i in 0..4 {
                b[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            Some(std::net::Ipv6Addr::from(b).into())
        }
        _ => None,
    }
}

/// The pids not in `known`, among `all`.
pub fn new_pids(all: &[u32], known: &AHashSet<u32>) -> Vec<u32> {
    all.iter().copied().filter(|p| !known.contains(p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_survives_odd_names() {
        let stat = "4242 (a) b (c)) S 1 4242 4242 0 -1 4194304 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_start_time(stat), Some(987_654));
        assert_eq!(parse_start_time("garbage"), None);
    }

    #[test]
    fn icmp_and_raw_tables_parse() {
        let v4 = |a: [u8; 4]| format!("{:08X}", u32::from_ne_bytes(a));
        let text = format!(
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
             \x20 1: {}:0001 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 0\n\
             \x20 2: {}:1F90 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 77 2 0000000000000000 0\n\
             garbage line\n",
            v4([0, 0, 0, 0]),
            v4([10, 200, 1, 1]),
        );
        assert_eq!(
            parse_ip_sockets(&text),
            vec![("0.0.0.0".parse().unwrap(), 1, 4242), ("10.200.1.1".parse().unwrap(), 8080, 77)]
        );
        let words: String = "fd00:200::1:1"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets()
            .chunks(4)
            .map(|c| format!("{:08X}", u32::from_ne_bytes(c.try_into().unwrap())))
            .collect();
        assert_eq!(hex_addr(&words), Some("fd00:200::1:1".parse().unwrap()));
        assert_eq!(hex_addr("123"), None);
        // The real tables of this machine parse (whatever they hold).
        for t in ["/proc/net/icmp", "/proc/net/icmp6", "/proc/net/raw", "/proc/net/raw6"] {
            let _ = ip_sockets(t);
        }
    }

    #[test]
    fn socket_links() {
        assert_eq!(socket_inode("socket:[123]"), Some(123));
        assert_eq!(socket_inode("pipe:[123]"), None);
        assert_eq!(socket_inode("/dev/null"), None);
    }

    #[test]
    fn own_process_is_readable() {
        let me = std::process::id();
        let (start, info) = read(me).expect("own /proc entry");
        assert!(start > 0);
        assert!(!info.name.is_empty());
        assert_eq!(info.exe.map(std::path::PathBuf::from), std::env::current_exe().ok());
        assert!(pids().contains(&me));
    }
}

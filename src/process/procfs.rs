//! Linux `/proc` readers: which process holds which socket inode, and a process's name, executable
//! and start time. Each is a handful of small reads, no full `sysinfo` refresh.

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

/// Name (`comm`) and executable path of `pid`, with its start time. `None` when the process is
/// gone. The executable is `None` when it cannot be read (another user's process without
/// privileges, kernel threads).
pub fn read(pid: u32) -> Option<(u64, String, Option<String>)> {
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
    (start_time(pid)? == start).then(|| (start, comm.trim_end_matches('\n').to_string(), exe))
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
    fn socket_links() {
        assert_eq!(socket_inode("socket:[123]"), Some(123));
        assert_eq!(socket_inode("pipe:[123]"), None);
        assert_eq!(socket_inode("/dev/null"), None);
    }

    #[test]
    fn own_process_is_readable() {
        let me = std::process::id();
        let (start, name, exe) = read(me).expect("own /proc entry");
        assert!(start > 0);
        assert!(!name.is_empty());
        assert_eq!(exe.map(std::path::PathBuf::from), std::env::current_exe().ok());
        assert!(pids().contains(&me));
    }
}

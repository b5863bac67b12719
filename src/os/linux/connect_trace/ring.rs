//! One perf event per CPU on a tracepoint, with its memory-mapped ring buffer: open, enable,
//! wait, and read the samples (pid and raw tracepoint record) out of the ring.
//!
//! All the `unsafe` of the connection tracer is here: the `perf_event_open` system call, the
//! ioctls, `mmap` and the ring's head/tail protocol (`perf_event_open(2)`, "MMAP layout").

use perf_event_open_sys as sys;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering, fence};

/// Data pages per CPU (a power of two): 64 KiB with 4 KiB pages, about 700 connection events.
const DATA_PAGES: usize = 16;
/// A sample header, pid/tid and the raw size before the raw record.
const PERF_RECORD_SAMPLE: u32 = sys::bindings::PERF_RECORD_SAMPLE;
const PERF_RECORD_LOST: u32 = sys::bindings::PERF_RECORD_LOST;
const PERF_RECORD_COMM: u32 = sys::bindings::PERF_RECORD_COMM;
const PERF_RECORD_MISC_COMM_EXEC: u16 = sys::bindings::PERF_RECORD_MISC_COMM_EXEC as u16;

/// What a ring holds.
pub enum Record<'a> {
    /// A hit of the tracepoint, by process `pid`, with its raw record.
    Sample { pid: u32, raw: &'a [u8] },
    /// Process `pid` ran `execve` and is now called `comm`.
    Exec { pid: u32, comm: &'a [u8] },
}

/// A tracepoint event on one CPU, with its ring buffer.
pub struct Ring {
    fd: OwnedFd,
    base: *mut u8,
    len: usize,
    data_offset: usize,
    data_size: usize,
    /// Scratch for records that wrap around the end of the ring.
    scratch: Vec<u8>,
}

// The mapping belongs to this value alone; it is only touched through `&mut self`.
unsafe impl Send for Ring {}

impl Ring {
    /// Opens tracepoint `id` on `cpu` for every process, sampling each hit with its pid and raw
    /// record, and (with `execs`) every `execve` with the new name, and maps its ring. The error
    /// is the system call's (permission, no such event).
    pub fn open(id: u64, cpu: i32, execs: bool) -> io::Result<Ring> {
        let mut attr = sys::bindings::perf_event_attr {
            type_: sys::bindings::PERF_TYPE_TRACEPOINT,
            size: std::mem::size_of::<sys::bindings::perf_event_attr>() as u32,
            config: id,
            sample_type: u64::from(sys::bindings::PERF_SAMPLE_TID | sys::bindings::PERF_SAMPLE_RAW),
            ..Default::default()
        };
        attr.__bindgen_anon_1.sample_period = 1;
        attr.__bindgen_anon_2.wakeup_events = 1;
        attr.set_disabled(1);
        if execs {
            attr.set_comm(1);
            attr.set_comm_exec(1);
        }
        // SAFETY: `attr` is a fully initialised perf_event_attr that outlives the call.
        let fd = unsafe {
            sys::perf_event_open(&mut attr, -1, cpu, -1, libc::c_ulong::from(sys::bindings::PERF_FLAG_FD_CLOEXEC))
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the call returned a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let page = page_size();
        let len = page * (1 + DATA_PAGES);
        // SAFETY: a shared read-write mapping of the event's ring, of the size the kernel expects.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = base.cast::<u8>();
        // SAFETY: the first page is the kernel's perf_event_mmap_page.
        let meta = unsafe { &*base.cast::<sys::bindings::perf_event_mmap_page>() };
        // Kernels before 4.1 leave these 0: the data then starts after the first page.
        let (data_offset, data_size) = if meta.data_size == 0 {
            (page, page * DATA_PAGES)
        } else {
            (meta.data_offset as usize, meta.data_size as usize)
        };
        Ok(Ring { fd, base, len, data_offset, data_size, scratch: Vec::new() })
    }

    /// Keeps only the hits for which the ftrace `filter` holds (e.g. `oldstate == 2`). Best effort.
    pub fn set_filter(&self, filter: &str) -> io::Result<()> {
        let c = CString::new(filter).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: the descriptor is a perf event and the string is NUL-terminated and lives on.
        let r = unsafe { sys::ioctls::SET_FILTER(self.fd.as_raw_fd(), c.as_ptr().cast_mut()) };
        if r < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
    }

    /// Starts counting.
    pub fn enable(&self) -> io::Result<()> {
        // SAFETY: the descriptor is a perf event.
        let r = unsafe { sys::ioctls::ENABLE(self.fd.as_raw_fd(), 0) };
        if r < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
    }

    pub fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    fn head_tail(&self) -> (&AtomicU64, &AtomicU64) {
        // SAFETY: data_head and data_tail are naturally aligned u64 fields of the mapped meta page,
        // which lives as long as `self`; the kernel writes head, we write tail.
        unsafe {
            let meta = self.base.cast::<sys::bindings::perf_event_mmap_page>();
            let head = &*std::ptr::addr_of_mut!((*meta).data_head).cast::<AtomicU64>();
            let tail = &*std::ptr::addr_of_mut!((*meta).data_tail).cast::<AtomicU64>();
            (head, tail)
        }
    }

    /// Hands every record waiting in the ring to `on`; returns the number of records the kernel
    /// reported lost (the ring was full).
    pub fn drain(&mut self, mut on: impl FnMut(Record<'_>)) -> u64 {
        let head = self.head_tail().0.load(Ordering::Acquire);
        fence(Ordering::Acquire);
        let mut tail = self.head_tail().1.load(Ordering::Relaxed);
        let mut lost = 0;
        let size = self.data_size as u64;
        while tail < head && head - tail >= 8 {
            let header = self.copy_out(tail, 8);
            let kind = u32::from_ne_bytes([header[0], header[1], header[2], header[3]]);
            let misc = u16::from_ne_bytes([header[4], header[5]]);
            let len = u64::from(u16::from_ne_bytes([header[6], header[7]]));
            if len < 8 || len > head - tail || len > size {
                // A torn or corrupt record: skip everything the kernel has written.
                tail = head;
                break;
            }
            let rec = self.copy_out(tail, len as usize);
            tail += len;
            match kind {
                PERF_RECORD_SAMPLE => {
                    // header(8) pid(4) tid(4) raw_size(4) raw(raw_size)
                    let Some(pid) = rec.get(8..12).map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]])) else {
                        continue;
                    };
                    let Some(raw_len) = rec.get(16..20).map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]])) else {
                        continue;
                    };
                    if let Some(raw) = rec.get(20..20 + raw_len as usize) {
                        on(Record::Sample { pid, raw });
                    }
                }
                PERF_RECORD_COMM if misc & PERF_RECORD_MISC_COMM_EXEC != 0 => {
                    // header(8) pid(4) tid(4) comm (NUL-terminated, padded)
                    let (Some(pid), Some(tid)) = (rec.get(8..12), rec.get(12..16)) else { continue };
                    if pid != tid {
                        continue;
                    }
                    let pid = u32::from_ne_bytes([pid[0], pid[1], pid[2], pid[3]]);
                    let comm = rec.get(16..).unwrap_or_default();
                    let comm = &comm[..comm.iter().position(|b| *b == 0).unwrap_or(comm.len())];
                    on(Record::Exec { pid, comm });
                }
                PERF_RECORD_LOST => {
                    // header(8) id(8) lost(8)
                    lost += rec.get(16..24).map(|b| u64::from_ne_bytes(b.try_into().unwrap_or([0; 8]))).unwrap_or(0);
                }
                _ => {}
            }
        }
        fence(Ordering::Release);
        self.head_tail().1.store(tail, Ordering::Release);
        lost
    }

    /// `len` bytes of the ring starting at stream position `pos`, unwrapped.
    fn copy_out(&mut self, pos: u64, len: usize) -> &[u8] {
        let size = self.data_size;
        let start = (pos % size as u64) as usize;
        // SAFETY: the data area is `data_size` bytes at `data_offset` inside the mapping, and
        // `len <= data_size` is checked by the caller.
        let data = unsafe { std::slice::from_raw_parts(self.base.add(self.data_offset), size) };
        self.scratch.clear();
        let first = len.min(size - start);
        self.scratch.extend_from_slice(&data[start..start + first]);
        self.scratch.extend_from_slice(&data[..len - first]);
        &self.scratch
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `open`; the descriptor closes after.
        unsafe {
            libc::munmap(self.base.cast(), self.len);
        }
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 { p as usize } else { 4096 }
}

/// The CPUs that can run tasks (from `/sys/devices/system/cpu/online`, e.g. `0-3,6`).
pub fn online_cpus() -> Vec<i32> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap_or_default();
    let cpus = parse_cpu_list(&text);
    if cpus.is_empty() {
        (0..std::thread::available_parallelism().map_or(1, |n| n.get()) as i32).collect()
    } else {
        cpus
    }
}

fn parse_cpu_list(text: &str) -> Vec<i32> {
    let mut out = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        if let (Ok(a), Ok(b)) = (a.trim().parse::<i32>(), b.trim().parse::<i32>())
            && a <= b
            && b < 65_536
        {
            out.extend(a..=b);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::parse_cpu_list;

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0-1\n"), vec![0, 1]);
        assert_eq!(parse_cpu_list("0,2-3,7"), vec![0, 2, 3, 7]);
        assert_eq!(parse_cpu_list(""), Vec::<i32>::new());
        assert_eq!(parse_cpu_list("x-1,3-2"), Vec::<i32>::new());
    }
}

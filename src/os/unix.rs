//! What Linux and macOS share: the local API over Unix sockets, user and group look-ups through
//! the C library (so NSS users and groups work), file modes, SIGHUP / SIGTERM / SIGINT turned into
//! flags a daemon's loop polls, the host name, and waiting for a capture with `poll(2)`.

use super::Wait;
use std::ffi::{CStr, CString};
use std::fs;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// The local API's listening socket.
pub type LocalListener = std::os::unix::net::UnixListener;
/// A connection to the local API.
pub type LocalStream = std::os::unix::net::UnixStream;

/// The id of group `name`, if it exists.
pub fn group_id(name: &str) -> Option<u32> {
    let cname = CString::new(name).ok()?;
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut result: *mut libc::group = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the sizes given; the result points into `grp`/`buf`.
    let rc = unsafe { libc::getgrnam_r(cname.as_ptr(), &mut grp, buf.as_mut_ptr(), buf.len(), &mut result) };
    (rc == 0 && !result.is_null()).then_some(grp.gr_gid)
}

/// The login name of user `uid`, if it has one.
pub fn user_name(uid: u32) -> Option<String> {
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the sizes given; the result points into `pwd`/`buf`.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result) };
    if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
        return None;
    }
    // SAFETY: pw_name is a NUL-terminated string inside `buf`.
    Some(unsafe { CStr::from_ptr(pwd.pw_name) }.to_string_lossy().into_owned())
}

/// This process's user id.
pub fn current_uid() -> u32 {
    // SAFETY: no arguments, cannot fail.
    unsafe { libc::getuid() }
}

/// The login name of the user running this process, if it has one.
pub fn current_user_name() -> Option<String> {
    user_name(current_uid())
}

/// Gives `path` to group `gid` with mode `mode` (e.g. the API socket: 0660 root:leakwatch).
pub fn set_group_and_mode(path: &Path, gid: Option<u32>, mode: u32) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;
    if let Some(gid) = gid {
        let c = CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
        // SAFETY: a valid NUL-terminated path; uid -1 keeps the owner.
        if unsafe { libc::chown(c.as_ptr(), u32::MAX, gid) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

static HUP: AtomicBool = AtomicBool::new(false);
static TERM: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: libc::c_int) {
    // Only atomic stores: async-signal-safe.
    if sig == libc::SIGHUP {
        HUP.store(true, Ordering::SeqCst);
    } else {
        TERM.store(true, Ordering::SeqCst);
    }
}

/// Daemon signals as flags: SIGHUP asks for a reload, SIGTERM and SIGINT for a clean stop.
pub struct Signals;

impl Signals {
    /// Installs the handlers (once per process is enough; again is harmless).
    pub fn install() -> io::Result<Signals> {
        for sig in [libc::SIGHUP, libc::SIGTERM, libc::SIGINT] {
            // SAFETY: a plain sigaction with an async-signal-safe handler and SA_RESTART.
            let rc = unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                sa.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(sig, &sa, std::ptr::null_mut())
            };
            if rc != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(Signals)
    }

    /// Whether a reload was asked since the last call.
    pub fn take_reload(&self) -> bool {
        HUP.swap(false, Ordering::SeqCst)
    }

    /// Whether a stop was asked.
    pub fn stop_requested(&self) -> bool {
        TERM.load(Ordering::SeqCst)
    }
}

/// This machine's host name (`-` when it cannot be read).
pub fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that many bytes.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "-".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).into_owned();
    if name.is_empty() { "-".into() } else { name }
}

/// Whether the binary links libpcap at start (else it is loaded at run time, when there).
pub const LINKS_LIBPCAP: bool = true;

/// Whether libpcap can be used: on Unix the binary links it, so it is always there.
pub fn capture_library() -> Result<(), String> {
    Ok(())
}

/// A live capture's descriptor, to wait on with `poll(2)`.
#[derive(Clone, Copy, Debug)]
pub struct Readiness(RawFd);

impl Readiness {
    /// The descriptor of `cap`, which must outlive every [`Readiness::wait`] on it.
    pub fn of(cap: &pcap::Capture<pcap::Active>) -> Readiness {
        Readiness(cap.as_raw_fd())
    }

    /// Waits up to `timeout_ms` for packets.
    pub fn wait(self, timeout_ms: i32) -> Wait {
        let mut p = libc::pollfd { fd: self.0, events: libc::POLLIN, revents: 0 };
        // SAFETY: `p` is one valid pollfd for the duration of the call; the descriptor belongs to
        // a capture that the calling thread owns and keeps open across the call.
        let n = unsafe { libc::poll(&mut p, 1, timeout_ms) };
        if n <= 0 {
            return Wait::Timeout; // nothing, or EINTR: just look again
        }
        if p.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 && p.revents & libc::POLLIN == 0 {
            return Wait::Error;
        }
        Wait::Ready
    }
}

/// Makes `options` create files readable and writable by their owner only (mode 0600).
pub fn private_file(options: &mut fs::OpenOptions) -> &mut fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    options.mode(0o600)
}

/// Makes `options` open without blocking (a FIFO without a writer must not hang a read).
pub fn nonblocking_open(options: &mut fs::OpenOptions) -> &mut fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    options.custom_flags(libc::O_NONBLOCK)
}

/// What a path that is not a regular file or directory is (FIFO, socket, device), for messages.
pub fn special_file_kind(t: &fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_char_device() || t.is_block_device() {
        Some("a device")
    } else {
        None
    }
}

/// Creates `dir` (and its parents) readable by its owner only (mode 0700), unless it exists.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Makes a rename inside `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// The device and inode of stderr (what systemd's `JOURNAL_STREAM` names), when `/proc` tells.
pub fn stderr_file_id() -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/proc/self/fd/2").ok().map(|m| (m.dev(), m.ino()))
}

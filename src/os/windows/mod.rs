//! Windows: the local API over AF_UNIX sockets (Windows 10 1803 and later) with the caller's
//! process and elevation checked, Npcap found and loaded at run time (the binary starts without
//! it, and says where to get it), waiting for a capture on its event handle, Ctrl-C / Ctrl-Break as
//! stop requests, and file helpers where Unix modes have no equivalent (files and directories
//! inherit the ACL of the directory they are made in: the user's profile, or `ProgramData` for the
//! service).
//!
//! The socket → program source is `netstat.rs` (shared with macOS) with the ETW session of
//! `etw.rs` as its tracer of new connections.
//!
//! Built and checked from Linux (mingw-w64, Wine); the API's caller check, the capture event and
//! the ETW session are untested on a real Windows machine (docs/platforms.md).

mod etw;

pub use etw::EventTracer;

use super::{Peer, Wait};
use std::ffi::c_void;
use std::fs;
use std::io;
use std::net::TcpListener;
use std::os::windows::ffi::OsStrExt;
use std::os::windows::io::AsRawSocket;
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, WAIT_OBJECT_0, WAIT_TIMEOUT};
use windows_sys::Win32::Networking::WinSock::{SOCKET, SOCKET_ERROR, WSAIoctl};
use windows_sys::Win32::Security::{GetTokenInformation, TOKEN_ELEVATION, TOKEN_QUERY, TokenElevation};
use windows_sys::Win32::System::LibraryLoader::{LOAD_WITH_ALTERED_SEARCH_PATH, LoadLibraryExW, LoadLibraryW};
use windows_sys::Win32::System::SystemInformation::GetSystemDirectoryW;
use windows_sys::Win32::System::Threading::{
    OpenProcess, OpenProcessToken, PROCESS_QUERY_LIMITED_INFORMATION, WaitForSingleObject,
};

/// The local API's listening socket (AF_UNIX).
pub type LocalListener = uds_windows::UnixListener;
/// A connection to the local API (AF_UNIX).
pub type LocalStream = uds_windows::UnixStream;

/// The user id given to an elevated caller (an administrator's elevated process or a service):
/// the API treats it as root.
const ADMIN_UID: u32 = 0;
/// The user id given to any other caller: Windows has no numeric user ids.
const USER_UID: u32 = u32::MAX - 1;

/// `SIO_AF_UNIX_GETPEERPID`: `_WSAIOR(IOC_VENDOR, 256)`.
const SIO_AF_UNIX_GETPEERPID: u32 = 0x5800_0100;

/// The process at the other end of `stream` (told by the kernel) and whether it is elevated.
pub fn peer_of(stream: &LocalStream) -> io::Result<Peer> {
    let mut pid: u32 = 0;
    let mut returned: u32 = 0;
    // SAFETY: a valid socket; the output buffer is one u32 and its size is given.
    let rc = unsafe {
        WSAIoctl(
            stream.as_raw_socket() as SOCKET,
            SIO_AF_UNIX_GETPEERPID,
            std::ptr::null(),
            0,
            (&raw mut pid).cast(),
            std::mem::size_of::<u32>() as u32,
            &mut returned,
            std::ptr::null_mut(),
            None,
        )
    };
    if rc == SOCKET_ERROR {
        return Err(io::Error::last_os_error());
    }
    let uid = if process_is_elevated(pid)? { ADMIN_UID } else { USER_UID };
    Ok(Peer { pid: pid as i32, uid, gid: u32::MAX, groups: Vec::new() })
}

/// Whether process `pid` runs with an elevated token.
fn process_is_elevated(pid: u32) -> io::Result<bool> {
    // SAFETY: plain handle calls; every handle opened here is closed before returning.
    unsafe {
        let process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid);
        if process.is_null() {
            return Err(io::Error::last_os_error());
        }
        let mut token: HANDLE = std::ptr::null_mut();
        let opened = OpenProcessToken(process, TOKEN_QUERY, &mut token);
        CloseHandle(process);
        if opened == 0 {
            return Err(io::Error::last_os_error());
        }
        let mut elevation = TOKEN_ELEVATION { TokenIsElevated: 0 };
        let mut len = 0u32;
        let ok = GetTokenInformation(
            token,
            TokenElevation,
            (&raw mut elevation).cast(),
            std::mem::size_of::<TOKEN_ELEVATION>() as u32,
            &mut len,
        );
        CloseHandle(token);
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(elevation.TokenIsElevated != 0)
    }
}

/// Windows groups are not mapped to ids yet: no group admits callers (only elevated ones are).
pub fn group_id(_name: &str) -> Option<u32> {
    None
}

/// A name for user id `uid` as [`peer_of`] gives them.
pub fn user_name(uid: u32) -> Option<String> {
    (uid == ADMIN_UID).then(|| "an administrator (elevated)".to_string())
}

/// The name of the user running this process (`%USERNAME%`).
pub fn current_user_name() -> Option<String> {
    std::env::var("USERNAME").ok().filter(|n| !n.is_empty())
}

/// File modes do not exist on Windows: the file keeps the ACL it inherited.
pub fn set_group_and_mode(_path: &Path, _gid: Option<u32>, _mode: u32) -> io::Result<()> {
    Ok(())
}

static TERM: AtomicBool = AtomicBool::new(false);

/// Stop requests as a flag: Ctrl-C, Ctrl-Break and closing the console. (There is no reload
/// signal on Windows: the API's `reload` does it.)
pub struct Signals;

impl Signals {
    /// Installs the console handler.
    pub fn install() -> io::Result<Signals> {
        match ctrlc::try_set_handler(|| TERM.store(true, Ordering::SeqCst)) {
            Ok(()) | Err(ctrlc::Error::MultipleHandlers) => Ok(Signals),
            Err(e) => Err(io::Error::other(e.to_string())),
        }
    }

    /// Never: Windows has no reload signal.
    pub fn take_reload(&self) -> bool {
        false
    }

    /// Whether a stop was asked.
    pub fn stop_requested(&self) -> bool {
        TERM.load(Ordering::SeqCst)
    }
}

/// This machine's name (`%COMPUTERNAME%`; `-` when unset).
pub fn host_name() -> String {
    std::env::var("COMPUTERNAME").ok().filter(|n| !n.is_empty()).unwrap_or_else(|| "-".into())
}

fn wide(s: &std::ffi::OsStr) -> Vec<u16> {
    s.encode_wide().chain(std::iter::once(0)).collect()
}

/// Whether the binary links libpcap at start: no, Npcap is loaded at run time ([`capture_library`]).
pub const LINKS_LIBPCAP: bool = false;

/// Where Npcap is described and downloaded.
pub const NPCAP_URL: &str = "https://npcap.com/#download";

/// Loads Npcap's `wpcap.dll` (from `%SystemRoot%\System32\Npcap`, else the usual search path,
/// where WinPcap-compatible installs and Wine have it) once. The binary imports libpcap lazily
/// (a delay-load import library, see `packaging/windows/`), so every use of `pcap` must ask here
/// first: without the library a call would abort the process.
pub fn capture_library() -> Result<(), String> {
    static LOADED: OnceLock<Result<(), String>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            let mut buf = [0u16; 260];
            // SAFETY: the buffer and its length in u16 units.
            let n = unsafe { GetSystemDirectoryW(buf.as_mut_ptr(), buf.len() as u32) } as usize;
            if n > 0 && n < buf.len() {
                let mut dir = std::path::PathBuf::from(String::from_utf16_lossy(&buf[..n]));
                dir.push("Npcap");
                dir.push("wpcap.dll");
                let path = wide(dir.as_os_str());
                // SAFETY: a NUL-terminated wide path; the module stays loaded for the process.
                let h = unsafe { LoadLibraryExW(path.as_ptr(), std::ptr::null_mut(), LOAD_WITH_ALTERED_SEARCH_PATH) };
                if !h.is_null() {
                    return Ok(());
                }
            }
            let name = wide(std::ffi::OsStr::new("wpcap.dll"));
            // SAFETY: a NUL-terminated wide name.
            let h = unsafe { LoadLibraryW(name.as_ptr()) };
            if h.is_null() {
                Err(format!(
                    "Npcap is not installed (wpcap.dll was not found): live capture needs it. Get it from {NPCAP_URL} \
                     (Leakwatch's installer offers it); `leakwatch replay` works without it"
                ))
            } else {
                Ok(())
            }
        })
        .clone()
}

/// A live capture's event handle, to wait on.
#[derive(Clone, Copy, Debug)]
pub struct Readiness(isize);

impl Readiness {
    /// The event of `cap`, which must outlive every [`Readiness::wait`] on it.
    pub fn of(cap: &pcap::Capture<pcap::Active>) -> Readiness {
        // SAFETY: the handle belongs to `cap`, which the caller keeps open while waiting.
        #[allow(clippy::unnecessary_cast)]
        Readiness(unsafe { cap.get_event() } as isize)
    }

    /// Waits up to `timeout_ms` for packets.
    pub fn wait(self, timeout_ms: i32) -> Wait {
        // SAFETY: an event handle owned by a capture that outlives the call.
        match unsafe { WaitForSingleObject(self.0 as *mut c_void, timeout_ms.max(0) as u32) } {
            WAIT_OBJECT_0 => Wait::Ready,
            WAIT_TIMEOUT => Wait::Timeout,
            _ => Wait::Error,
        }
    }
}

/// A blocked `accept` cannot be woken from outside here: the acceptor polls its stop flag.
pub fn wake_listener(listener: &TcpListener) {
    let _ = listener;
}

/// What to tell a user whose live capture was refused for lack of rights.
pub fn capture_rights_hint() -> &'static str {
    "run it from an administrator's command prompt, or use the Leakwatch service; Npcap installed with \
     \"Restrict Npcap driver's access to Administrators only\" refuses everyone else"
}

/// Files inherit their directory's ACL (no Unix mode).
pub fn private_file(options: &mut fs::OpenOptions) -> &mut fs::OpenOptions {
    options
}

/// Opening a file never blocks on Windows.
pub fn nonblocking_open(options: &mut fs::OpenOptions) -> &mut fs::OpenOptions {
    options
}

/// Windows has no FIFOs or device files in the file system.
pub fn special_file_kind(_t: &fs::FileType) -> Option<&'static str> {
    None
}

/// Creates `dir` and its parents (they inherit the parent's ACL).
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

/// Directories cannot be opened for syncing on Windows; the rename is durable enough.
pub fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// Windows has no journal stream.
pub fn stderr_file_id() -> Option<(u64, u64)> {
    None
}

/// Not known here (stale temporary files are left alone on Windows).
pub fn process_alive(_pid: u32) -> Option<bool> {
    None
}

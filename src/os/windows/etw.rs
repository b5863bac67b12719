//! Who opens each connection, told by the kernel as it happens (Windows): a real-time ETW session
//! with the kernel network provider (`Microsoft-Windows-Kernel-Network`, keywords IPv4 and IPv6)
//! whose TCP connect and send and UDP send events name the process that owns the socket, and the
//! kernel process provider (`Microsoft-Windows-Kernel-Process`), whose `ProcessStart` events name
//! the programs that have exited by the time their network events are read (as `execve` does on
//! Linux). Each event's user data is decoded by the platform-independent
//! [`crate::os::etw_event`]; the local endpoint and its program go to the socket table through
//! the same feed the Linux connect tracer uses ([`crate::os::attrib::feed`]).
//!
//! Needs an administrator (the service runs as LocalSystem): otherwise starting the session
//! fails and the table works as before, from the socket tables alone (the status says why:
//! `connection_tracing: false` and the error).
//!
//! Built and checked from Linux only (`make cross-check`): **untested on a real Windows machine**.
//! Known limits: ETW delivers a real-time session's events when a buffer fills or every second
//! (the flush timer), so a program that has exited by then is named by its image's file name only
//! (no path: not an installed program for the filters), from its `ProcessStart`; events are
//! decoded by the manifest layouts of the versions known (network: 0; process start: 0 to 3).

use crate::os::Sockets;
use crate::os::attrib::{Feed, FeedTx, Programs, Recent, SocketSource, Traced, feed};
use crate::os::etw_event;
use crate::process::ProcessInfo;
use ahash::AHashMap;
use std::ffi::c_void;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;
use windows_sys::Win32::Foundation::{ERROR_ACCESS_DENIED, ERROR_ALREADY_EXISTS, ERROR_SUCCESS};
use windows_sys::Win32::System::Diagnostics::Etw::{
    CONTROLTRACE_HANDLE, CloseTrace, ControlTraceW, EVENT_CONTROL_CODE_ENABLE_PROVIDER, EVENT_RECORD,
    EVENT_TRACE_CONTROL_STOP, EVENT_TRACE_LOGFILEW, EVENT_TRACE_PROPERTIES, EVENT_TRACE_REAL_TIME_MODE, EnableTraceEx2,
    OpenTraceW, PROCESS_TRACE_MODE_EVENT_RECORD, PROCESS_TRACE_MODE_REAL_TIME, PROCESSTRACE_HANDLE, ProcessTrace,
    StartTraceW, TRACE_LEVEL_INFORMATION, WNODE_FLAG_TRACED_GUID,
};
use windows_sys::core::GUID;

/// The session's name (one per machine: a session left by a crashed run is stopped and replaced).
const SESSION: &str = "Leakwatch-Kernel-Network";
/// Programs remembered by pid, and endpoints remembered as told.
const MAX_PROGRAMS: usize = 16_384;
/// Seconds between flushes of the session's buffers (the longest an event waits).
const FLUSH_SECONDS: u32 = 1;
/// `OpenTraceW`'s failure value.
const INVALID_PROCESSTRACE_HANDLE: u64 = u64::MAX;

/// The running session; stops when dropped.
pub struct EventTracer {
    feed: Feed,
    session: CONTROLTRACE_HANDLE,
    thread: Option<JoinHandle<()>>,
}

/// `EVENT_TRACE_PROPERTIES` followed by room for the session's name, as `StartTraceW` and
/// `ControlTraceW` want it.
#[repr(C)]
struct Properties {
    props: EVENT_TRACE_PROPERTIES,
    name: [u16; 64],
}

impl Properties {
    fn new() -> Box<Properties> {
        // SAFETY: both fields are plain data for which all-zero bytes are valid.
        let mut p: Box<Properties> = Box::new(unsafe { std::mem::zeroed() });
        p.props.Wnode.BufferSize = std::mem::size_of::<Properties>() as u32;
        p.props.Wnode.Flags = WNODE_FLAG_TRACED_GUID;
        // QPC time stamps (1); the time is not used here.
        p.props.Wnode.ClientContext = 1;
        p.props.LogFileMode = EVENT_TRACE_REAL_TIME_MODE;
        p.props.FlushTimer = FLUSH_SECONDS;
        p.props.LoggerNameOffset = std::mem::offset_of!(Properties, name) as u32;
        p
    }
}

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// Why the session could not start, with what to do.
fn start_error(step: &str, rc: u32) -> String {
    let os = std::io::Error::from_raw_os_error(rc as i32);
    if rc == ERROR_ACCESS_DENIED {
        format!(
            "not permitted to trace connections ({step}: {os}): it needs an administrator; run it from an \
             administrator's command prompt, or use the Leakwatch service"
        )
    } else {
        format!("cannot start the ETW session for connections ({step}: {os})")
    }
}

/// What the event callback needs; owned by the thread that runs `ProcessTrace`.
struct Consumer {
    tx: FeedTx,
    programs: Programs<Sockets>,
    /// pid → file name of the image its `ProcessStart` gave (for programs already gone).
    started: AHashMap<u32, Box<str>>,
    told: Recent,
    network: GUID,
    process: GUID,
}

impl Consumer {
    fn on_event(&mut self, e: etw_event::NetEvent) {
        if !self.told.tell((e.proto, e.local, e.local_port), e.pid, Instant::now()) {
            return;
        }
        let Some(owner) = self.program(e.pid) else { return };
        self.tx.send(Traced { proto: e.proto, local: e.local, port: e.local_port, owner });
    }

    fn on_start(&mut self, s: etw_event::Started) {
        if self.started.len() >= MAX_PROGRAMS {
            self.started.clear();
        }
        self.started.insert(s.pid, s.name.into_boxed_str());
        // A reused pid: what was cached for it is another program.
        self.programs.forget(s.pid);
    }

    /// The program `pid` runs; when it is already gone, the name its start gave, without a path.
    fn program(&mut self, pid: u32) -> Option<Arc<ProcessInfo>> {
        self.programs.get(pid).or_else(|| {
            let name = self.started.get(&pid)?.to_string();
            Some(Arc::new(ProcessInfo::observed(pid, name, None)))
        })
    }
}

fn same_guid(a: &GUID, b: &GUID) -> bool {
    (a.data1, a.data2, a.data3, a.data4) == (b.data1, b.data2, b.data3, b.data4)
}

/// The event callback (`PEVENT_RECORD_CALLBACK`), on the `ProcessTrace` thread.
unsafe extern "system" fn on_event(record: *mut EVENT_RECORD) {
    // SAFETY: ETW passes a valid record for the duration of the call; its user context is the
    // `Consumer` given to `OpenTraceW`, which lives until `ProcessTrace` has returned, and only this
    // thread uses it.
    let (r, consumer) = unsafe {
        let Some(r) = record.as_ref() else { return };
        let Some(c) = r.UserContext.cast::<Consumer>().as_mut() else { return };
        (r, c)
    };
    let provider = &r.EventHeader.ProviderId;
    let data: &[u8] = if r.UserData.is_null() || r.UserDataLength == 0 {
        &[]
    } else {
        // SAFETY: ETW's user data is `UserDataLength` bytes at `UserData` during the call.
        unsafe { std::slice::from_raw_parts(r.UserData.cast::<u8>(), usize::from(r.UserDataLength)) }
    };
    let d = &r.EventHeader.EventDescriptor;
    if same_guid(provider, &consumer.network) {
        if let Some(e) = etw_event::decode(d.Id, d.Version, data) {
            consumer.on_event(e);
        }
    } else if same_guid(provider, &consumer.process)
        && d.Id == etw_event::PROCESS_START
        && let Some(s) = etw_event::decode_start(d.Version, data)
    {
        consumer.on_start(s);
    }
}

/// The `ProcessTrace` handle and the consumer, moved to the thread that processes them.
struct Processing {
    trace: PROCESSTRACE_HANDLE,
    consumer: *mut Consumer,
}

// SAFETY: the consumer is used by the processing thread only, once handed to it.
unsafe impl Send for Processing {}

impl Processing {
    fn run(self) {
        // SAFETY: a handle from OpenTraceW; ProcessTrace blocks until the session stops.
        unsafe {
            ProcessTrace(&self.trace, 1, std::ptr::null(), std::ptr::null());
            CloseTrace(self.trace);
            // No callback runs after ProcessTrace returned: the consumer can go.
            drop(Box::from_raw(self.consumer));
        }
    }
}

fn stop_session(session: CONTROLTRACE_HANDLE, name: &[u16]) -> u32 {
    let mut p = Properties::new();
    // SAFETY: valid properties with room for the name; the name is NUL-terminated.
    unsafe { ControlTraceW(session, name.as_ptr(), &mut p.props, EVENT_TRACE_CONTROL_STOP) }
}

impl EventTracer {
    /// Starts the session and the thread that reads it. The error says why it could not start.
    pub fn start() -> Result<EventTracer, String> {
        let name = wide(SESSION);
        let mut session = CONTROLTRACE_HANDLE::default();
        let mut props = Properties::new();
        // SAFETY: a valid out-handle, a NUL-terminated name, properties with room for the name.
        let mut rc = unsafe { StartTraceW(&mut session, name.as_ptr(), &mut props.props) };
        if rc == ERROR_ALREADY_EXISTS {
            // Left by a run that did not stop it: stop it and start again.
            stop_session(CONTROLTRACE_HANDLE::default(), &name);
            props = Properties::new();
            // SAFETY: as above.
            rc = unsafe { StartTraceW(&mut session, name.as_ptr(), &mut props.props) };
        }
        if rc != ERROR_SUCCESS {
            return Err(start_error("StartTrace", rc));
        }
        let network = GUID::from_u128(etw_event::PROVIDER);
        let process = GUID::from_u128(etw_event::PROCESS_PROVIDER);
        for (guid, keywords) in
            [(&process, etw_event::KEYWORD_PROCESS), (&network, etw_event::KEYWORD_IPV4 | etw_event::KEYWORD_IPV6)]
        {
            // SAFETY: a started session, a valid GUID; no enable parameters.
            let rc = unsafe {
                EnableTraceEx2(
                    session,
                    guid,
                    EVENT_CONTROL_CODE_ENABLE_PROVIDER,
                    TRACE_LEVEL_INFORMATION as u8,
                    keywords,
                    0,
                    0,
                    std::ptr::null(),
                )
            };
            if rc != ERROR_SUCCESS {
                stop_session(session, &name);
                return Err(start_error("EnableTraceEx2", rc));
            }
        }
        let (tx, feed) = feed();
        let consumer = Box::into_raw(Box::new(Consumer {
            tx,
            programs: Programs::new(Sockets::new(), MAX_PROGRAMS),
            started: AHashMap::new(),
            told: Recent::new(MAX_PROGRAMS),
            network,
            process,
        }));
        let mut logger_name = name.clone();
        // SAFETY: all-zero is a valid EVENT_TRACE_LOGFILEW; the fields set are the ones a
        // real-time consumer with an event-record callback needs.
        let trace = unsafe {
            let mut logfile: EVENT_TRACE_LOGFILEW = std::mem::zeroed();
            logfile.LoggerName = logger_name.as_mut_ptr();
            logfile.Anonymous1.ProcessTraceMode = PROCESS_TRACE_MODE_REAL_TIME | PROCESS_TRACE_MODE_EVENT_RECORD;
            logfile.Anonymous2.EventRecordCallback = Some(on_event);
            logfile.Context = consumer.cast::<c_void>();
            OpenTraceW(&mut logfile)
        };
        if trace.Value == INVALID_PROCESSTRACE_HANDLE {
            let rc = std::io::Error::last_os_error().raw_os_error().unwrap_or(0) as u32;
            stop_session(session, &name);
            // SAFETY: never handed to ETW (OpenTraceW failed): still ours.
            drop(unsafe { Box::from_raw(consumer) });
            return Err(start_error("OpenTrace", rc));
        }
        let processing = Processing { trace, consumer };
        let thread =
            std::thread::Builder::new().name("leakwatch-etw".into()).spawn(move || processing.run()).map_err(|e| {
                stop_session(session, &name);
                format!("cannot start the ETW reader thread: {e}")
            })?;
        Ok(EventTracer { feed, session, thread: Some(thread) })
    }

    /// What the session has told, for the socket table.
    pub fn feed(&self) -> &Feed {
        &self.feed
    }
}

impl Drop for EventTracer {
    fn drop(&mut self) {
        // Stopping the session ends ProcessTrace, and with it the thread.
        stop_session(self.session, &wide(SESSION));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

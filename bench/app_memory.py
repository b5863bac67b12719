"""Measures leakwatch-app's PSS (the app and all its descendants) with the window open and closed.

As a client of the service (MODE=service) the app is a resident tray process that starts the
window as a process of its own (`leakwatch-app --window`, with WebKit's processes below it):
open, the sum covers the tray, the window process and WebKit's; closed, what is left.

Called by bench/app-memory.sh inside Xvfb with the app's pid. Closes the window the way a
window manager does (WM_DELETE_WINDOW client message, via Xlib through ctypes).
"""
import ctypes
import ctypes.util
import os
import subprocess
import sys
import time


def descendants(pid):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except OSError:
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            name = f.read().strip()
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if b"--window" in f.read().split(b"\0"):
                name += " --window"
        return name
    except OSError:
        return "?"


def report(label, root):
    procs = descendants(root)
    parts = [(comm(p), pss_kib(p)) for p in procs]
    total = sum(k for _, k in parts)
    detail = ", ".join(f"{n} {k / 1024:.1f}" for n, k in parts if k)
    print(f"{label}: {total / 1024:.1f} MiB PSS ({detail})")
    return total


def close_window(name):
    wid = subprocess.run(["xdotool", "search", "--name", f"^{name}$"], capture_output=True, text=True).stdout.split()
    if not wid:
        return False
    x = ctypes.CDLL(ctypes.util.find_library("X11"))
    x.XOpenDisplay.restype = ctypes.c_void_p
    x.XInternAtom.restype = ctypes.c_ulong
    x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    d = x.XOpenDisplay(None)

    class ClientMessage(ctypes.Structure):
        _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                    ("display", ctypes.c_void_p), ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                    ("format", ctypes.c_int), ("data", ctypes.c_long * 5)]

    class XEvent(ctypes.Union):
        _fields_ = [("xclient", ClientMessage), ("pad", ctypes.c_long * 24)]

    for w in wid:
        ev = XEvent()
        ev.xclient.type = 33  # ClientMessage
        ev.xclient.window = int(w)
        ev.xclient.message_type = x.XInternAtom(d, b"WM_PROTOCOLS", 0)
        ev.xclient.format = 32
        ev.xclient.data[0] = x.XInternAtom(d, b"WM_DELETE_WINDOW", 0)
        x.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
        x.XSendEvent(d, int(w), 0, 0, ctypes.byref(ev))
    x.XFlush.argtypes = [ctypes.c_void_p]
    x.XFlush(d)
    return True


def main():
    pid = int(sys.argv[1])
    time.sleep(15)  # window loaded, replay alert shown (~6.5 s at 5x)
    report("window open", pid)
    if not close_window("Leakwatch"):
        print("window closed: no window named Leakwatch found", file=sys.stderr)
        return 1
    time.sleep(8)
    if os.path.exists(f"/proc/{pid}"):
        report("window closed (app in the tray)", pid)
    else:
        print("the app exited when its window closed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

//! Whether a program's executable is an installed one, so that its name can be believed.
//!
//! A process chooses its own name (`comm`, `argv[0]`) and anyone can copy a program to
//! `~/firefox`; only an administrator can put a file where installed programs live. On Unix a file
//! is installed when it and every folder above it belong to root and no one else may write them
//! (group write only for group root); on Linux the check goes through `/proc/PID/exe` and
//! `/proc/PID/root`, so a program in another mount namespace (Flatpak, a container) is judged by
//! the files it really runs. On Windows a file is installed when it is under Program Files or the
//! Windows folder, which only administrators may write.

/// Whether `exe` (the path the OS gave for process `pid`) is an installed program.
pub fn is_installed(pid: Option<u32>, exe: &str) -> bool {
    imp::is_installed(pid, exe)
}

#[cfg(unix)]
mod imp {
    use std::fs::{self, Metadata};
    use std::os::unix::fs::MetadataExt;
    use std::path::{Path, PathBuf};

    pub fn is_installed(pid: Option<u32>, exe: &str) -> bool {
        let path = Path::new(exe);
        if !path.is_absolute() {
            return false;
        }
        // The file itself: through /proc/PID/exe when there is one (the inode the process runs,
        // even when the path has since been replaced or deleted).
        let (root, file) = match pid.filter(|_| cfg!(any(target_os = "linux", target_os = "android"))) {
            Some(pid) => {
                let root = PathBuf::from(format!("/proc/{pid}/root"));
                let file = fs::metadata(format!("/proc/{pid}/exe"));
                if fs::metadata(&root).is_ok() { (root, file) } else { (PathBuf::from("/"), file) }
            }
            None => (PathBuf::from("/"), fs::metadata(path)),
        };
        let Ok(file) = file else { return false };
        if !file.is_file() || !system_owned(&file) {
            return false;
        }
        path.ancestors().skip(1).all(|dir| {
            let inside = root.join(dir.strip_prefix("/").unwrap_or(dir));
            fs::metadata(inside).is_ok_and(|m| m.is_dir() && system_owned(&m))
        })
    }

    /// Owned by root and writable by no one else (group write only for group root).
    fn system_owned(m: &Metadata) -> bool {
        let mode = m.mode();
        m.uid() == 0 && mode & 0o002 == 0 && (mode & 0o020 == 0 || m.gid() == 0)
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use std::os::unix::fs::PermissionsExt;

        #[test]
        fn system_programs_are_installed_and_copies_in_user_folders_are_not() {
            let sh = fs::canonicalize("/bin/sh").unwrap();
            assert!(is_installed(None, sh.to_str().unwrap()), "{sh:?}");
            assert!(!is_installed(None, "relative/sh"));
            assert!(!is_installed(None, "/nonexistent/firefox"));
            let dir = tempfile::tempdir().unwrap();
            let copy = dir.path().join("firefox");
            fs::copy(&sh, &copy).unwrap();
            let own = fs::metadata(&copy).unwrap().uid();
            // As root the copy is root's, but its folder is a temporary one: /tmp is writable by all.
            assert!(!is_installed(None, copy.to_str().unwrap()), "owner {own}");
            fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
            assert!(!is_installed(None, copy.to_str().unwrap()), "under /tmp (mode 1777)");
        }

        #[test]
        fn this_process_is_judged_through_proc() {
            let exe = std::env::current_exe().unwrap();
            // The test binary lives in the build folder: not installed unless that folder and
            // every one above it are root's and closed to others.
            let expected = exe.ancestors().skip(1).all(|d| fs::metadata(d).is_ok_and(|m| system_owned(&m)))
                && fs::metadata(&exe).is_ok_and(|m| system_owned(&m));
            assert_eq!(is_installed(Some(std::process::id()), exe.to_str().unwrap()), expected);
        }
    }
}

#[cfg(windows)]
mod imp {
    /// Under one of the folders only administrators may write.
    pub fn is_installed(_pid: Option<u32>, exe: &str) -> bool {
        let lower = exe.to_ascii_lowercase().replace('/', "\\");
        if lower.contains("\\..\\") {
            return false;
        }
        ["ProgramFiles", "ProgramFiles(x86)", "ProgramW6432", "SystemRoot"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .map(|d| d.to_ascii_lowercase().trim_end_matches('\\').to_string() + "\\")
            .any(|d| d.len() > 3 && lower.starts_with(&d))
    }
}

#[cfg(not(any(unix, windows)))]
mod imp {
    pub fn is_installed(_pid: Option<u32>, _exe: &str) -> bool {
        false
    }
}

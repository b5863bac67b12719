//! Build script: checks that the web UI is built, then generates Tauri's context and the
//! permissions of our own commands (the capability file allows exactly these).

/// The commands the UI may invoke (docs/ui-contract.md). Each gets an `allow-<name>` permission.
const COMMANDS: &[&str] = &[
    "list_alerts",
    "ignore_alert",
    "list_ignores",
    "remove_ignore",
    "get_settings",
    "set_settings",
    "engine_status",
    "history_uploads",
    "history_alerts",
    "export_history",
    "connections_now",
    "programs",
    "ignore_program",
    "first_senders",
];

fn main() {
    let manifest_dir = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let dist = manifest_dir.join("../ui/dist");
    // The directory's mtime changes when `ui/dist` appears or goes.
    println!("cargo:rerun-if-changed=../ui");
    println!("cargo:rerun-if-changed=../ui/dist/index.html");
    println!("cargo:rerun-if-env-changed=LEAKWATCH_REQUIRE_UI");
    // A TAURI_CONFIG given by the caller (e.g. `frontendDist` pointing at another UI build) wins.
    if !dist.join("index.html").is_file() && std::env::var_os("TAURI_CONFIG").is_none() {
        if std::env::var_os("LEAKWATCH_REQUIRE_UI").is_some() {
            panic!(
                "ui/dist/index.html is missing: build the web UI first (ui/scripts/ci.sh build, or cd ui && npm ci && npm run build)"
            );
        }
        println!(
            "cargo:warning=ui/dist/index.html is missing: build the web UI first (ui/scripts/ci.sh build, or cd ui && npm ci && npm run build); \
             until then the window shows src-tauri/placeholder/index.html"
        );
        let patch = r#"{"build":{"frontendDist":"placeholder"}}"#;
        // For tauri-build below (this process) and for `generate_context!` (rustc's environment).
        // SAFETY: the build script is single-threaded.
        unsafe { std::env::set_var("TAURI_CONFIG", patch) };
        println!("cargo:rustc-env=TAURI_CONFIG={patch}");
    }
    tauri_build::try_build(
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .unwrap_or_else(|e| panic!("tauri build step failed: {e:#}"));
}

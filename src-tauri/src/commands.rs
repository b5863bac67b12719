//! The contract's commands (`docs/ui-contract.md`), thin wrappers over [`Core`]. Errors are
//! human messages that name the field; the capability file allows exactly these commands.

use crate::core::Core;
use crate::settings::Settings;
use crate::views::{EngineStatus, IgnoreView};
use serde_json::Value;
use std::sync::Arc;
use tauri::State;

type CoreState<'a> = State<'a, Arc<Core>>;

#[tauri::command]
pub fn list_alerts(core: CoreState<'_>) -> Vec<Value> {
    core.list_alerts()
}

#[tauri::command]
pub fn ignore_alert(core: CoreState<'_>, id: u64, scope: String) -> Result<Value, String> {
    core.ignore_alert(id, &scope, "user").map(Core::ignore_reply)
}

#[tauri::command]
pub fn list_ignores(core: CoreState<'_>) -> Vec<IgnoreView> {
    core.list_ignores()
}

#[tauri::command]
pub fn remove_ignore(core: CoreState<'_>, id: u64) -> Result<bool, String> {
    core.remove_ignore(id)
}

#[tauri::command]
pub fn get_settings(core: CoreState<'_>) -> Settings {
    core.get_settings()
}

#[tauri::command]
pub fn set_settings(core: CoreState<'_>, settings: Settings) -> Result<Settings, String> {
    core.inner().set_settings(settings)
}

#[tauri::command]
pub fn engine_status(core: CoreState<'_>) -> EngineStatus {
    core.engine_status()
}

#[tauri::command]
pub fn history_uploads(
    core: CoreState<'_>,
    range: String,
    by: String,
    program: Option<String>,
    until: Option<i64>,
) -> Result<leakwatch::history::UploadsView, String> {
    core.history.uploads(&range, &by, program.as_deref(), until)
}

#[tauri::command]
pub fn history_alerts(
    core: CoreState<'_>,
    since: String,
    program: Option<String>,
    query: Option<String>,
    until: Option<i64>,
) -> Result<Vec<Value>, String> {
    core.history.alerts(&since, program, query, until)
}

/// `connections_now`: the most recently active open flows (at most 300), with the engine's
/// packet time, for the Connections view (the UI asks once a second and works out the rates).
#[tauri::command]
pub fn connections_now(core: CoreState<'_>) -> Result<Value, String> {
    core.connections_now()
}

/// `programs`: per-program totals from `from` up to `until` (Unix seconds; null: now).
#[tauri::command]
pub fn programs(
    core: CoreState<'_>,
    from: i64,
    until: Option<i64>,
) -> Result<leakwatch::history::ProgramsView, String> {
    core.history.programs(from, until)
}

/// `first_senders`: programs announced as first-time senders in this run.
#[tauri::command]
pub fn first_senders(core: CoreState<'_>) -> Vec<String> {
    core.first_senders()
}

/// `ignore_program`: ignores every upload of the program with executable path `exe`, for `scope`.
#[tauri::command]
pub fn ignore_program(core: CoreState<'_>, exe: String, scope: String) -> Result<Value, String> {
    core.ignore_program(&exe, &scope).map(Core::ignore_reply)
}

/// Without a `path`, asks where to save with the system's save dialog (Rust side only: the
/// window's capability grants no dialog or file system command); `null` when the user cancels.
#[tauri::command]
pub async fn export_history(
    app: tauri::AppHandle,
    window: tauri::WebviewWindow,
    core: CoreState<'_>,
    format: String,
    path: Option<String>,
) -> Result<Option<String>, String> {
    use tauri_plugin_dialog::DialogExt;
    let path = match path.filter(|p| !p.is_empty()) {
        Some(p) => p,
        None => {
            crate::history::check_format(&format)?;
            let name = crate::history::default_file_name(&format);
            let mut dialog = app
                .dialog()
                .file()
                .set_title(core.messages().text("ui-history-export-title", None))
                .set_file_name(name);
            dialog = dialog.add_filter(format.to_uppercase(), &[format.as_str()]).set_parent(&window);
            if let Some(dir) = crate::history::default_export_dir() {
                dialog = dialog.set_directory(dir);
            }
            // The dialog runs on the main thread; wait for it off the async runtime.
            let chosen = tauri::async_runtime::spawn_blocking(move || dialog.blocking_save_file())
                .await
                .map_err(|e| format!("path: the save dialog failed: {e}"))?;
            match chosen.map(|p| p.into_path()) {
                None => return Ok(None),
                Some(Ok(p)) => p.display().to_string(),
                Some(Err(e)) => return Err(format!("path: the save dialog gave no usable path: {e}")),
            }
        }
    };
    core.history.export(&format, Some(path))
}

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
) -> Result<leakwatch::history::UploadsView, String> {
    core.history.uploads(&range, &by, program.as_deref())
}

#[tauri::command]
pub fn history_alerts(
    core: CoreState<'_>,
    since: String,
    program: Option<String>,
    query: Option<String>,
) -> Result<Vec<Value>, String> {
    core.history.alerts(&since, program, query)
}

#[tauri::command]
pub fn export_history(core: CoreState<'_>, format: String, path: Option<String>) -> Result<Option<String>, String> {
    core.history.export(&format, path)
}

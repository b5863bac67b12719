//! `leakwatch ignores list|remove|add-json`: the permanent ignores in `ignores.user.json`.

use super::{EXIT_OK, IgnoresCommand, open_ignores_at};
use crate::judge::{BadIgnore, Mode, Rules};
use crate::text::safe;

/// Exit code when the command could not do what was asked.
const EXIT_FAILED: i32 = 1;

pub fn run(cmd: &IgnoresCommand) -> i32 {
    let file = match cmd {
        IgnoresCommand::List { file }
        | IgnoresCommand::Remove { file, .. }
        | IgnoresCommand::AddJson { file, .. }
        | IgnoresCommand::ExportLegacy { file, .. } => file,
    };
    // The service's ignores when it runs, unless a file was named (an export reads a file).
    let local = file.path.is_some()
        || matches!(cmd, IgnoresCommand::ExportLegacy { .. })
        || std::env::var_os(crate::ignores::CONFIG_DIR_ENV).is_some_and(|v| !v.is_empty());
    if !local {
        match super::service_cmd::try_connect() {
            Ok(Some(mut client)) => return super::service_cmd::ignores(cmd, &mut client),
            Ok(None) => {}
            Err(code) => return code,
        }
    }
    let path = match file.resolve() {
        Ok(p) => p,
        Err(e) => {
            tracing::error!("{e}");
            return EXIT_FAILED;
        }
    };
    let Ok(mut store) = open_ignores_at(&path) else { return EXIT_FAILED };
    match cmd {
        IgnoresCommand::List { .. } => {
            let now = chrono::Utc::now();
            let list = store.list(now);
            if list.is_empty() {
                println!("no ignores in {}", path.display());
            }
            for i in list {
                // The source column: ignores a local program added over the legacy socket
                // must stand out (they could blind leakwatch).
                // Names and filters came from files and clients: escaped (crate::text).
                println!(
                    "{:>4}  {:<13}  {}  {}",
                    i.id,
                    i.source.as_str(),
                    safe(i.name().unwrap_or("(no name)")),
                    safe(&i.filter.to_string())
                );
            }
            EXIT_OK
        }
        IgnoresCommand::Remove { id, .. } => match store.remove(*id) {
            Ok(true) => {
                println!("removed ignore {id} from {}", path.display());
                EXIT_OK
            }
            Ok(false) => {
                tracing::error!("there is no ignore {id} in {}: see `leakwatch ignores list`", path.display());
                EXIT_FAILED
            }
            Err(e) => {
                tracing::error!("{e}");
                EXIT_FAILED
            }
        },
        IgnoresCommand::ExportLegacy { out, .. } => {
            let now = chrono::Utc::now();
            let list = store.list(now);
            let permanent: Vec<&serde_json::Value> =
                list.iter().filter(|i| i.is_permanent()).map(|i| &i.filter).collect();
            let ids: Vec<u64> = list.iter().filter(|i| i.is_permanent()).map(|i| i.id).collect();
            let (text, left_out) = crate::ignores::legacy_only_json(&permanent);
            if let Err(e) = crate::files::write_atomically(out, text.as_bytes()) {
                tracing::error!("cannot write {}: {e}", out.display());
                return EXIT_FAILED;
            }
            for (i, why) in &left_out {
                let name = permanent[*i].get("name").and_then(|n| n.as_str()).unwrap_or("(no name)");
                println!("left out ignore {} ({}): {why}", ids[*i], safe(name));
            }
            println!(
                "wrote {} of {} permanent ignores to {} (a file the old daemon can read)",
                permanent.len() - left_out.len(),
                permanent.len(),
                out.display()
            );
            EXIT_OK
        }
        IgnoresCommand::AddJson { json, force, .. } => {
            let rules = Rules::shipped(Mode::Paranoid);
            if let Err(e) = rules.check_filter(json) {
                tracing::error!("{e}");
                return EXIT_FAILED;
            }
            match rules.check_not_over_broad(json) {
                Ok(()) => {}
                Err(BadIgnore::OverBroad(e)) if *force => tracing::warn!("{e}; added anyway (--force)"),
                Err(BadIgnore::OverBroad(e)) => {
                    tracing::error!("{e}; add it anyway with --force");
                    return EXIT_FAILED;
                }
                Err(e @ BadIgnore::Invalid(_)) => {
                    tracing::error!("{e}");
                    return EXIT_FAILED;
                }
            }
            let value = match serde_json::from_str(json) {
                Ok(v) => v,
                Err(e) => {
                    tracing::error!("the filter is not JSON: {e}");
                    return EXIT_FAILED;
                }
            };
            match store.add_permanent(value) {
                Ok(id) => {
                    println!("added ignore {id} to {}", path.display());
                    EXIT_OK
                }
                Err(e) => {
                    tracing::error!("{e}");
                    EXIT_FAILED
                }
            }
        }
    }
}

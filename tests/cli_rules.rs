//! The command line's pattern, mode, language and ignore options, on real files.

mod support;

use support::*;

fn legacy(name: &str) -> std::path::PathBuf {
    shared_dir().join("reference/legacy-data").join(name)
}

#[test]
fn patterns_check_shows_what_each_mode_ignores() {
    let run = leakwatch(&["patterns", "check"], None);
    run.assert_code(0);
    let out = &run.stdout;
    assert!(out.contains("threat patterns, OK"), "{}", run.dump());
    assert!(out.contains("mode paranoid: nothing ignored"), "{}", run.dump());
    let adequate = out.split("mode adequate").nth(1).unwrap().split("mode chill").next().unwrap();
    assert!(adequate.contains("Pattern.StdApp.Browser"), "adequate ignores browsers:\n{adequate}");
    let chill = out.split("mode chill").nth(1).unwrap();
    for family in ["Pattern.Google", "Pattern.Amazon", "Pattern.Cloudflare", "Pattern.GitHub"] {
        assert!(chill.contains(family), "chill ignores {family}:\n{chill}");
    }
    for unknown in ["Pattern.IP,", "Pattern.Process,", "Pattern.Port,"] {
        assert!(!chill.contains(unknown), "chill must not ignore {unknown}:\n{chill}");
    }
}

#[test]
fn patterns_check_accepts_the_legacy_files_and_names_the_look_around_of_the_chill_filter() {
    let patterns = legacy("patterns.json");
    let ok = leakwatch(&["patterns", "check", "--patterns", patterns.to_str().unwrap()], None);
    ok.assert_code(0);
    assert!(ok.stdout.contains("26 threat patterns"), "{}", ok.dump());
    let chill = legacy("ignores.chill.json");
    let bad = leakwatch(
        &["patterns", "check", "--patterns", patterns.to_str().unwrap(), "--filters", chill.to_str().unwrap()],
        None,
    );
    bad.assert_code(1);
    assert!(bad.stderr.contains("ignores.chill.json") && bad.stderr.contains("look"), "{}", bad.dump());
}

#[test]
fn a_bad_pattern_file_is_an_error_naming_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("mine.json");
    std::fs::write(
        &f,
        "{\"patterns\": [\n  {\"name\": \"P\", \"priority\": 1,\n   \"pattern\": {\"differby\": \"dstip\"}}\n]}\n",
    )
    .unwrap();
    let run = leakwatch(&["patterns", "check", "--patterns", f.to_str().unwrap()], None);
    run.assert_code(1);
    assert!(run.stderr.contains("mine.json:3:") && run.stderr.contains("differby"), "{}", run.dump());
    // The same file refuses to start a replay, with exit 2 and the same message.
    let cap = ndpi_capture("ookla.pcap");
    let run = leakwatch(&["replay", "--patterns", f.to_str().unwrap(), cap.to_str().unwrap()], None);
    run.assert_code(2);
    assert!(run.stderr.contains("differby"), "{}", run.dump());
}

#[test]
fn modes_and_languages_are_checked_and_russian_messages_are_russian() {
    let cap = ndpi_capture("ookla.pcap");
    let cap = cap.to_str().unwrap();
    let run = leakwatch(&["replay", "--mode", "lax", cap], None);
    run.assert_code(2);
    assert!(run.stderr.contains("paranoid") && run.stderr.contains("chill"), "{}", run.dump());
    let run = leakwatch(&["replay", "--locale", "de", cap], None);
    run.assert_code(2);
    let ru = leakwatch(&["replay", "-l", "RU", "--mode", "CHILL", cap], None);
    ru.assert_code(0);
    assert!(ru.stdout.chars().any(|c| ('а'..='я').contains(&c)), "Russian text expected\n{}", ru.dump());
    assert!(ru.stdout.contains("46.44.253.187"), "{}", ru.dump());
}

#[test]
fn ignores_commands_round_trip_through_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ignores.user.json");
    let f = file.to_str().unwrap();
    let filter = r#"{"pattern":{"dstip":"^\\Q46.44.253.187\\E$"},"name":"Ignore.Custom.Pattern.IP","related-patterns":"^\\QPattern.IP\\E$","relation-mode":"all"}"#;
    let list = leakwatch(&["ignores", "list", "--file", f], None);
    list.assert_code(0);
    assert!(list.stdout.contains("no ignores"), "{}", list.dump());
    leakwatch(&["ignores", "add-json", filter, "--file", f], None).assert_code(0);
    let list = leakwatch(&["ignores", "list", "--file", f], None);
    list.assert_code(0);
    assert!(
        list.stdout.contains("Ignore.Custom.Pattern.IP") && list.stdout.contains("46.44.253.187"),
        "{}",
        list.dump()
    );
    let id = list.stdout.split_whitespace().next().unwrap().to_string();

    // The ignore applies to replay through the user's config directory...
    let cap = ndpi_capture("ookla.pcap");
    let cap = cap.to_str().unwrap();
    let env = [("LEAKWATCH_CONFIG_DIR", dir.path().to_str().unwrap())];
    let silenced = leakwatch_env(&["replay", "--json", cap], None, &env);
    silenced.assert_code(0);
    assert!(silenced.lines().is_empty(), "ignored:\n{}", silenced.dump());
    let all = leakwatch_env(&["replay", "--json", "--no-user-ignores", cap], None, &env);
    assert_eq!(all.json_lines().len(), 1, "{}", all.dump());

    // ...and goes away when removed.
    leakwatch(&["ignores", "remove", &id, "--file", f], None).assert_code(0);
    let again = leakwatch(&["ignores", "remove", &id, "--file", f], None);
    again.assert_code(1);
    assert!(again.stderr.contains(&format!("no ignore {id}")), "{}", again.dump());
    let back = leakwatch_env(&["replay", "--json", cap], None, &env);
    assert_eq!(back.json_lines().len(), 1, "{}", back.dump());

    let bad = leakwatch(&["ignores", "add-json", r#"{"name":"x","pattern":{"dstip":"(?<=a)"}}"#, "--file", f], None);
    bad.assert_code(1);
    assert!(bad.stderr.contains("dstip"), "{}", bad.dump());
}

#[test]
fn a_corrupt_ignores_file_is_kept_aside_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ignores.user.json");
    std::fs::write(&file, "{\"filters\": [ oops ]}").unwrap();
    let run = leakwatch(&["ignores", "list", "--file", file.to_str().unwrap()], None);
    run.assert_code(0);
    assert!(run.stderr.contains("ignores.user.json") && run.stderr.contains(".bad-"), "{}", run.dump());
    let backups: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".bad-"))
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(std::fs::read_to_string(backups[0].path()).unwrap(), "{\"filters\": [ oops ]}");
}

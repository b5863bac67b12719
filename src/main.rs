//! The headless `leakwatch` command.

fn main() {
    std::process::exit(leakwatch::cli::main());
}

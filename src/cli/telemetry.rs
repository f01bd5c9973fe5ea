//! Logging for the CLI: warnings by default, progress with `--verbose`, `RUST_LOG` for more.
//! Log records carry identifiers (file names, key types), never values: see the log-canary test.

use tracing_subscriber::EnvFilter;

pub fn init(verbose: bool, format: Option<&str>) {
    let default = if verbose { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // Colours only on a terminal: escape codes in a redirected log or a CI capture are noise.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(ansi);
    // A second initialisation (tests) is harmless: the first subscriber stays.
    let _ = match format {
        Some("json") => builder.json().try_init(),
        _ => builder.without_time().try_init(),
    };
}

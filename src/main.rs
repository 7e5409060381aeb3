//! The `rzk` command: `rzk server [zoo.cfg]` and tools.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "rzk", version, about = "A ZooKeeper server in Rust")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a standalone server in the foreground on a Java-style zoo.cfg.
    Server {
        /// The configuration file.
        #[arg(default_value = "conf/zoo.cfg")]
        config: PathBuf,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RZK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Server { config } => match rzk::server::run::run_standalone(&config) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("rzk: {e}");
                ExitCode::from(2)
            }
        },
    }
}

//! The `rzk` command: `rzk server [zoo.cfg]` and tools.
//!
//! Exit status: 0 ok, 1 damage or failure, 2 usage.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use rzk::tools::{self, EXIT_FAILURE, EXIT_USAGE};

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
    /// Print a transaction log file as Java's TxnLogToolkit does
    /// (zkTxnLogToolkit.sh), or as JSON, one object per txn.
    LogDump {
        /// One JSON object per line instead of Java's text.
        #[arg(long)]
        json: bool,
        /// The log file (version-2/log.<zxid>).
        logfile: PathBuf,
    },
    /// Print a snapshot file as Java's SnapshotFormatter does
    /// (zkSnapShotToolkit.sh).
    SnapDump {
        /// Print each node's data (base64).
        #[arg(short = 'd', conflicts_with = "json")]
        data: bool,
        /// Java's -json: the ncdu JSON export of the tree.
        #[arg(long)]
        json: bool,
        /// The snapshot file (version-2/snapshot.<zxid>[.gz|.snappy]).
        snapshot: PathBuf,
    },
    /// Remove old snapshots and logs as Java's PurgeTxnLog does
    /// (zkCleanup.sh): keep the COUNT newest snapshots and the logs needed
    /// to recover from them.
    Purge {
        /// How many snapshots to keep (at least 3).
        #[arg(short = 'n', value_name = "COUNT", default_value_t = 3, value_parser = parse_count)]
        count: usize,
        /// dataLogDir (the directory holding version-2).
        data_log_dir: PathBuf,
        /// dataDir, when snapshots are kept apart from the logs.
        snap_dir: Option<PathBuf>,
    },
    /// Print every node a server serves, one line each, children sorted:
    /// path, data, ACL and stat.
    DumpTree {
        /// The server, host:port.
        address: String,
        /// Leave ctime and mtime out.
        #[arg(long)]
        no_stat_times: bool,
        /// An identity to add before the walk, as addauth (e.g.
        /// digest:user:password); may be repeated.
        #[arg(long, value_name = "SCHEME:CREDENTIALS")]
        auth: Vec<String>,
    },
    /// Print the version string the server reports.
    Version,
    /// Load a ZooKeeper server (any: rzk or Java) and report throughput,
    /// latency percentiles and, with --pid, its memory.
    Bench(rzk::bench::BenchArgs),
}

fn parse_count(s: &str) -> Result<usize, String> {
    let n: i64 = s
        .parse()
        .map_err(|_| format!("'{s}' can not be parsed to integer."))?;
    if n < tools::purge::MIN_RETAIN as i64 {
        return Err(tools::purge::COUNT_ERR_MSG.to_owned());
    }
    Ok(n as usize)
}

/// Runs a tool writing to buffered stdout; reports its error on stderr.
fn with_stdout<E: std::fmt::Display>(
    tool: &str,
    f: impl FnOnce(&mut dyn Write) -> Result<(), E>,
    output_error: impl Fn(&E) -> Option<&io::Error>,
) -> ExitCode {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let r = f(&mut out);
    let flushed = out.flush();
    match r {
        Ok(()) => match flushed {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) if tools::is_broken_pipe(&e) => ExitCode::from(EXIT_FAILURE),
            Err(e) => {
                eprintln!("rzk {tool}: cannot write the output: {e}");
                ExitCode::from(EXIT_FAILURE)
            }
        },
        Err(e) => {
            if !output_error(&e).is_some_and(tools::is_broken_pipe) {
                eprintln!("rzk {tool}: {e}");
            }
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn purge(count: usize, data_log_dir: PathBuf, snap_dir: Option<PathBuf>) -> ExitCode {
    let snap_dir = snap_dir.unwrap_or_else(|| data_log_dir.clone());
    for p in [&data_log_dir, &snap_dir] {
        if !p.exists() {
            let abs = std::path::absolute(p).unwrap_or_else(|_| p.clone());
            eprintln!("rzk purge: Path '{}' does not exist.", abs.display());
            return ExitCode::from(EXIT_USAGE);
        }
    }
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let r = tools::purge::purge(&data_log_dir, &snap_dir, count, |e| match e {
        tools::purge::Event::Removing { line, .. } => {
            let _ = writeln!(out, "{line}");
        }
        tools::purge::Event::Failed { path, error } => {
            eprintln!("Failed to remove {}: {error}", path.display());
        }
    });
    match r {
        Ok(report) if report.failed.is_empty() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(EXIT_FAILURE),
        Err(e) => {
            eprintln!("rzk purge: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

// jemalloc: less memory per znode than glibc, and a purge (heap::trim).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RZK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // No colour codes when the log goes to a file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Server { config } => match rzk::server::run::run_standalone(&config) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("rzk: {e}");
                ExitCode::from(e.exit_code)
            }
        },
        Cmd::LogDump { json, logfile } => with_stdout(
            "log-dump",
            |out| tools::log_dump::dump(&logfile, json, out).map(|_| ()),
            |e| match e {
                tools::log_dump::DumpError::Output(e) => Some(e),
                _ => None,
            },
        ),
        Cmd::SnapDump {
            data,
            json,
            snapshot,
        } => {
            let mode = if json {
                tools::snap_dump::Mode::Json
            } else if data {
                tools::snap_dump::Mode::Data
            } else {
                tools::snap_dump::Mode::Summary
            };
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            with_stdout(
                "snap-dump",
                |out| tools::snap_dump::dump(&snapshot, mode, out, now),
                |e| match e {
                    tools::snap_dump::SnapDumpError::Output(e) => Some(e),
                    _ => None,
                },
            )
        }
        Cmd::Purge {
            count,
            data_log_dir,
            snap_dir,
        } => purge(count, data_log_dir, snap_dir),
        Cmd::DumpTree {
            address,
            no_stat_times,
            auth,
        } => {
            let mut opts = tools::dump_tree::Options {
                no_stat_times,
                auth: Vec::new(),
            };
            for a in auth {
                match a.split_once(':') {
                    Some((scheme, cred)) => opts.auth.push((scheme.to_owned(), cred.to_owned())),
                    None => {
                        eprintln!("rzk dump-tree: --auth {a}: expected SCHEME:CREDENTIALS");
                        return ExitCode::from(EXIT_USAGE);
                    }
                }
            }
            with_stdout(
                "dump-tree",
                |out| tools::dump_tree::dump(&address, &opts, out).map(|_| ()),
                |e| match e {
                    tools::dump_tree::TreeError::Output(e) => Some(e),
                    _ => None,
                },
            )
        }
        Cmd::Bench(args) => rzk::bench::main(args),
        Cmd::Version => {
            println!("{}", rzk::server::run::version());
            ExitCode::SUCCESS
        }
    }
}

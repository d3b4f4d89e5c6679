//! pipette: the command line, a thin face over the same router as the MCP server — every command builds a
//! tool's arguments from its flags and calls the router; what it prints is the tool's own markdown, or the
//! structured result with `--json`.

mod cmd;
mod face;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::face::{Face, Failed};

#[derive(Parser, Debug)]
#[command(
    name = "pipette",
    version,
    about = "Biomedical research tools, a local full-text index and a test runner",
    after_help = "Environment: PIPETTE_DATA_DIR (--data-dir), PIPETTE_ALLOWED_ROOTS (--allow-root), \
                  PIPETTE_LOG (--log), REDIS_URL (a shared cache and job queue)."
)]
struct Cli {
    /// Print the structured result as JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Queue the call as a job and return at once: a running `pipette-mcp` or `pipette worker` on the same
    /// data dir runs it (follow it with `pipette jobs status`).
    #[arg(long, global = true)]
    detach: bool,
    /// Where jobs and indexes live [default: PIPETTE_DATA_DIR, else the platform data dir].
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Log filter for stderr [default: PIPETTE_LOG, else warn].
    #[arg(long, global = true, value_name = "FILTER")]
    log: Option<String>,
    /// A folder where projects (`test`) and JSONL inputs (`index add --jsonl`) may be; repeat it or
    /// separate with `:` [default: PIPETTE_ALLOWED_ROOTS, else the data directory's `files` folder].
    #[arg(long = "allow-root", global = true, value_delimiter = ':', value_name = "DIR")]
    allow_roots: Vec<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The tools: name, category, runtime, timeout and what each is for.
    Tools,
    /// Calls a tool through the router, e.g. `pipette call health '{}'`.
    Call {
        /// The tool's name.
        tool: String,
        /// Its arguments as a JSON object.
        #[arg(default_value = "{}")]
        args: String,
    },
    /// Runs queued jobs (detached calls, resumed jobs, jobs whose process died) of this data dir until
    /// stopped (Ctrl-C / SIGTERM).
    Worker(cmd::worker::WorkerArgs),
    /// Background jobs.
    #[command(subcommand)]
    Jobs(cmd::router::JobsCmd),
    /// Local full-text indexes: create, add, search, optimize, metrics…
    #[command(subcommand)]
    Index(cmd::index::IndexCmd),
    /// Tests and linters: run, rerun what failed, detect, lint.
    #[command(subcommand)]
    Test(cmd::test::TestCmd),
    /// ClinicalTrials.gov: search, get, match mutations to trials.
    #[command(subcommand)]
    Trials(Box<cmd::trials::TrialsCmd>),
    /// PubMed: search and fetch articles.
    #[command(subcommand)]
    Pubmed(cmd::pubmed::PubmedCmd),
    /// Biomolecules: proteins, compounds and drugs for a target.
    #[command(subcommand)]
    Molecules(cmd::molecules::MoleculesCmd),
}

/// The router every command goes through, configured as the server's (`PIPETTE_*`), with the flags over it.
async fn router(data_dir: Option<PathBuf>, allow_roots: Vec<PathBuf>) -> anyhow::Result<mcp_tools::Router> {
    let mut config = mcp_tools::RouterConfig::from_env();
    if let Some(dir) = data_dir {
        config.data_dir = dir;
    }
    if !allow_roots.is_empty() {
        config.allowed_roots = Some(allow_roots);
    }
    let metrics = mcp_tools::MetricsExporter::install().ok();
    mcp_tools::build_router(config, metrics).await.map_err(|e| anyhow::anyhow!(e.message))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let router = router(cli.data_dir, cli.allow_roots).await?;
    let face = Face::new(router, cli.json, cli.detach);
    match cli.command {
        Command::Tools => cmd::router::tools(&face),
        Command::Call { tool, args } => cmd::router::call(&face, &tool, &args).await,
        Command::Worker(args) => cmd::worker::run(face.router(), args).await,
        Command::Jobs(c) => cmd::router::jobs(&face, c).await,
        Command::Pubmed(c) => cmd::pubmed::run(&face, c).await,
        Command::Molecules(c) => cmd::molecules::run(&face, c).await,
        Command::Test(c) => cmd::test::run(&face, c).await,
        Command::Trials(c) => cmd::trials::run(&face, *c).await,
        Command::Index(c) => cmd::index::run(&face, c).await,
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let log = cli.log.clone().or_else(|| std::env::var("PIPETTE_LOG").ok()).unwrap_or_else(|| "warn".into());
    let filter = tracing_subscriber::EnvFilter::try_new(&log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            #[allow(clippy::print_stderr)] // the error is the program's output on failure
            match e.downcast_ref::<Failed>() {
                Some(failed) => eprintln!("{failed}"),
                None => eprintln!("error: {e:#}"),
            }
            std::process::ExitCode::FAILURE
        }
    }
}

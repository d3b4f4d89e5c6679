//! pipette: the command line over the same cores and router as the MCP server.

mod cmd;
mod output;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::output::Output;

#[derive(Parser, Debug)]
#[command(
    name = "pipette",
    version,
    about = "Biomedical research tools, a local full-text index and a test runner"
)]
struct Cli {
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Where jobs and indexes live.
    #[arg(long, global = true, env = "PIPETTE_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Log filter for stderr.
    #[arg(long, global = true, env = "PIPETTE_LOG", default_value = "warn")]
    log: String,
    /// A folder where projects (`test`) and JSONL inputs (`index add --jsonl`) may be; repeat it or
    /// separate with `:`. Default: the data directory's `files` folder only.
    #[arg(
        long = "allow-root",
        global = true,
        env = "PIPETTE_ALLOWED_ROOTS",
        value_delimiter = ':',
        value_name = "DIR"
    )]
    allow_roots: Vec<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The tools: name, category, runtime, timeout.
    Tools,
    /// Calls a tool through the router, e.g. `pipette call health '{}'`.
    Call {
        /// The tool's name.
        tool: String,
        /// Its arguments as a JSON object.
        #[arg(default_value = "{}")]
        args: String,
        /// Queue the call as a job and return at once: a running `pipette-mcp` or `pipette worker` on the
        /// same data dir runs it (follow it with `pipette jobs status`).
        #[arg(long)]
        detach: bool,
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

/// The folders the domain commands may read and run in: `--allow-root` / `PIPETTE_ALLOWED_ROOTS`, else the
/// data directory's `files` folder (the same rule as the server's).
fn allowed_roots(cli: &Cli) -> Vec<PathBuf> {
    let configured = (!cli.allow_roots.is_empty()).then_some(cli.allow_roots.as_slice());
    let data_dir = cli.data_dir.clone().unwrap_or_else(|| mcp_tools::RouterConfig::from_env().data_dir);
    mcp_tools::default_roots(configured, &data_dir)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let out = Output::new(cli.json);
    let roots = allowed_roots(&cli);
    match cli.command {
        // The router's own commands: the same registry and router as the server.
        Command::Tools => cmd::router::tools(&router(cli.data_dir, cli.allow_roots).await?, &out),
        Command::Call { tool, args, detach: false } => {
            cmd::router::call(&router(cli.data_dir, cli.allow_roots).await?, &tool, &args, &out).await
        }
        Command::Call { tool, args, detach: true } => {
            cmd::router::detach(&router(cli.data_dir, cli.allow_roots).await?, &tool, &args, &out)
        }
        Command::Worker(args) => cmd::worker::run(&router(cli.data_dir, cli.allow_roots).await?, args).await,
        Command::Jobs(c) => cmd::router::jobs(&router(cli.data_dir, cli.allow_roots).await?, c, &out).await,
        // The domain commands call the cores directly.
        Command::Pubmed(c) => cmd::pubmed::run(c, &out).await,
        Command::Molecules(c) => cmd::molecules::run(c, &out).await,
        Command::Test(c) => cmd::test::run(c, &out, &roots).await,
        Command::Trials(c) => cmd::trials::run(*c, &out).await,
        Command::Index(c) => {
            let mut config = core_indexing::IndexConfig::from_env();
            if let Some(dir) = &cli.data_dir {
                config.data_dir = dir.join("indexes");
            }
            config.allowed_roots = roots;
            cmd::index::run_with(c, &out, config).await
        }
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            #[allow(clippy::print_stderr)] // the error is the program's output on failure
            {
                eprintln!("error: {e:#}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

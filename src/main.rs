//! The `mailtally` binary: parses the command line and hands over to `mailtally::cli`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = mailtally::cli::Cli::parse();
    mailtally::cli::init_logging(cli.default_log_filter());
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: starting the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli.run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

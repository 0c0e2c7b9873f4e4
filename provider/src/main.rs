//! terraform-provider-hybrid: started by Terraform, never by hand (except `--debug`).

use terraform_provider_hybrid::serve;
use terraform_provider_hybrid::server::ProviderService;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--version" || a == "-v") {
        println!("terraform-provider-hybrid {}", env!("CARGO_PKG_VERSION"));
        return std::process::ExitCode::SUCCESS;
    }
    let debug = args.iter().any(|a| a == "--debug");
    // Checked before any runtime exists so a mistaken manual run answers instantly.
    let handshake = if debug {
        None
    } else {
        match serve::handshake::from_env(|k| std::env::var(k).ok()) {
            Ok(h) => Some(h),
            Err(e) => {
                eprintln!("{e}");
                return std::process::ExitCode::FAILURE;
            }
        }
    };
    serve::hclog::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("terraform-provider-hybrid: cannot start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let provider = ProviderService::new();
        match handshake {
            Some(h) => serve::serve(provider, h).await,
            None => serve::serve_debug(provider).await,
        }
    });
    // In-flight tasks (a stuck API call) must not keep the process alive after Shutdown.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "plugin server failed");
            eprintln!("terraform-provider-hybrid: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

//! The `spaceport` binary: arguments go to [`spaceport::cli`], which opens
//! the window when no subcommand is given.

fn main() -> std::process::ExitCode {
    spaceport::cli::main()
}

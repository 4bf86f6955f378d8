//! The `objrt-inspect` command: runs the command line through
//! `objrt_inspect::cli`, prints the result on stdout, or the error on
//! stderr with a non-zero exit status.

use std::io::Write;
use std::process::ExitCode;

use objrt_inspect::cli::{parse_command, run_command};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse_command(&args).and_then(|command| run_command(&command)) {
        Ok(output) => {
            // A closed pipe (`objrt-inspect types x | head`) is not an error
            // worth a message.
            let _ = std::io::stdout().write_all(output.as_bytes());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("objrt-inspect: {error}");
            ExitCode::from(error.exit_status())
        }
    }
}
